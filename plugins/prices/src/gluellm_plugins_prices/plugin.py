"""Hook implementations of the prices plugin.

Kept tiny: genai-prices (about a second to import) loads in a background thread when
a runtime starts, or at the first price lookup, never at ``import gluellm``. The
`pricing` module imported here is light; it imports genai-prices inside its functions.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.model_ids import split_model
from gluellm_plugins_prices.pricing import price_usd, warm_up

if TYPE_CHECKING:
    from gluellm.call import Usage
    from gluellm.runtime import Runtime

_warming: list[threading.Thread] = []


@hookimpl
def estimate_cost(
    model: str, provider: str, usage: Usage, operation: str, runtime: Runtime
) -> float | None:
    """Price ``usage`` on ``model`` from the genai-prices database.

    Args:
        model: The model string (``openai:gpt-4o-mini`` or ``openai/gpt-4o-mini``).
        provider: The provider part of ``model``.
        usage: The tokens the turn (or embedding request) used.
        operation: ``chat`` or ``embedding``; both are priced per token.
        runtime: The runtime making the call (unused).

    Returns:
        The cost in US dollars, or None (logged at DEBUG) when the model is unknown.
    """
    try:
        _, name = split_model(model)
    except Exception:
        name = model
    return price_usd(provider, name, usage)


@hookimpl
def startup(runtime: Runtime) -> None:
    """Start importing genai-prices in a background thread, once per process.

    Not awaited: the first call's request goes out meanwhile, and the price lookup
    after it finds the module loaded (or waits for the rest of the import).
    ``gluellm.warmup()`` does wait for it (see `Runtime.add_warm_up`).

    Args:
        runtime: The runtime starting up.
    """
    if not _warming:
        thread = threading.Thread(target=warm_up, name="gluellm-prices-warm-up", daemon=True)
        _warming.append(thread)
        thread.start()
    runtime.add_warm_up(_warming[0].join)
