"""Prices from genai-prices, looked up once per model and reused.

A full ``genai_prices.calc_price`` takes a few hundred microseconds (usage
decomposition, unit validation), too much for every model turn. The plugin asks
genai-prices once per (provider, model) for the model and its current price, keeps them for
`PRICE_TTL` seconds (prices can change by date or time of day), and prices each turn
from it. Where that price is a plain rate per million input and output tokens, the
turn costs two multiplications in `Decimal`, the same arithmetic genai-prices does, so
the figure is identical to its own; anything else (tiers, per-request fees) goes
through genai-prices' full calculation on the cached model.

genai-prices is imported on the first lookup (it takes about a second, so the plugin's
``startup`` hook starts that import in a background thread).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from gluellm.call import Usage

PRICE_TTL = 60.0
"""Seconds a looked-up price (or a miss) is reused before genai-prices is asked again.

Short, because some prices change by time of day; a lookup costs well under a
millisecond, so once a minute per model is nothing.
"""

_MILLION = 1_000_000

PROVIDER_IDS: dict[str, tuple[str, ...]] = {
    "openai": ("openai",),
    # The lean transport's own provider name: OpenAI's API unless base_url says otherwise
    # (a self-hosted model behind it is not an OpenAI model name, so it stays unpriced).
    "openai-http": ("openai",),
    "azureopenai": ("azure", "openai"),
    "azure": ("azure",),
    "anthropic": ("anthropic",),
    "azureanthropic": ("anthropic",),
    "vertexaianthropic": ("anthropic",),
    "gemini": ("google",),
    "vertexai": ("google",),
    "xai": ("x-ai",),
    "groq": ("groq",),
    "mistral": ("mistral",),
    "deepseek": ("deepseek",),
    "together": ("together",),
    "fireworks": ("fireworks",),
    "perplexity": ("perplexity",),
    "cohere": ("cohere",),
    "openrouter": ("openrouter",),
    "bedrock": ("aws",),
    "cerebras": ("cerebras",),
    "databricks": ("databricks",),
    "moonshot": ("moonshotai",),
    "minimax": ("minimax",),
    "zai": ("zai", "zhipuai"),
    "voyage": ("voyageai",),
    "meta": ("meta",),
    "llama": ("meta",),
    "ovhcloud": ("ovhcloud",),
    "typesafe": ("typesafe",),
}
"""GlueLLM (any-llm) provider names -> genai-prices provider IDs, tried in order.

Providers not listed (self-hosted servers such as ollama, llamacpp, vllm, lmstudio, and
the offline ``test`` model) are never priced: guessing from the model name alone would
charge a local model at a hosted provider's rate.
"""


def provider_id(provider: str) -> tuple[str, ...]:
    """The genai-prices provider IDs for a GlueLLM provider name (empty: not priced)."""
    return PROVIDER_IDS.get(provider.lower(), ())


@attrs.frozen
class _Rate:
    """A model's resolved price, as cached.

    Attributes:
        provider: The genai-prices provider object the price belongs to.
        model: genai-prices' model object (its full calculation, for non-plain prices).
        input_mtok: USD per million input tokens, when the price is a plain rate.
        output_mtok: USD per million output tokens, when the price is a plain rate.
        linear: Whether the two rates alone give genai-prices' figure.
        expires: The ``time.monotonic()`` reading after which to look the price up again.
    """

    provider: Any
    model: Any
    input_mtok: Decimal | None
    output_mtok: Decimal | None
    linear: bool
    expires: float


@attrs.frozen
class _Miss:
    """A model genai-prices does not know, remembered so the lookup is not repeated."""

    reason: str
    expires: float


_clock = time.monotonic  # tests replace it to expire prices
_cache: dict[tuple[str, str], _Rate | _Miss] = {}
_lock = threading.Lock()
_PROBE = (1237, 541)  # an arbitrary usage used to check that a price is a plain rate


def warm_up() -> None:
    """Import genai-prices and load its bundled price data (about a second)."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


def _genai_usage(prompt: int, completion: int) -> Any:
    from genai_prices import Usage as GenaiUsage

    return GenaiUsage(input_tokens=prompt, output_tokens=completion)


def _rates(model_price: Any) -> tuple[Decimal | None, Decimal | None]:
    values = []
    for name in ("input_mtok", "output_mtok"):
        value = getattr(model_price, name, None)
        values.append(value if isinstance(value, Decimal) else None)
    return values[0], values[1]


def _linear_cost(prompt: int, completion: int, rate: _Rate) -> Decimal:
    # genai-prices' own arithmetic, price * count / per summed per kind, in one division:
    # dividing a Decimal by 10**6 only moves its exponent, so it is exact either way.
    total = Decimal(0)
    if rate.input_mtok is not None:
        total += rate.input_mtok * prompt
    if rate.output_mtok is not None:
        total += rate.output_mtok * completion
    return total / _MILLION


def _lookup(provider_ids: tuple[str, ...], model_name: str, now: float) -> _Rate | _Miss:
    from genai_prices import calc_price

    reasons = []
    for candidate in provider_ids:
        try:
            found = calc_price(_genai_usage(*_PROBE), model_name, provider_id=candidate)
        except LookupError as error:
            reasons.append(str(error))
            continue
        except Exception as error:  # bad data for one model must not fail the call
            reasons.append(f"genai-prices failed: {type(error).__name__}: {error}")
            continue
        input_mtok, output_mtok = _rates(found.model_price)
        rate = _Rate(
            provider=found.provider,
            model=found.model,
            input_mtok=input_mtok,
            output_mtok=output_mtok,
            linear=False,
            expires=now + PRICE_TTL,
        )
        # A plain rate only if it reproduces genai-prices' own figure for the probe.
        linear = (input_mtok is not None or output_mtok is not None) and _linear_cost(
            *_PROBE, rate
        ) == found.total_price
        return attrs.evolve(rate, linear=linear)
    return _Miss(reason="; ".join(reasons) or "no genai-prices provider", expires=now + PRICE_TTL)


def _entry(provider: str, model_name: str) -> _Rate | _Miss:
    now = _clock()
    key = (provider, model_name)
    entry = _cache.get(key)
    if entry is not None and entry.expires > now:
        return entry
    with _lock:  # one lookup per model, even from several threads
        entry = _cache.get(key)
        if entry is not None and entry.expires > now:
            return entry
        ids = provider_id(provider)
        if not ids:
            entry = _Miss(
                reason=f"provider {provider!r} has no genai-prices equivalent",
                expires=now + PRICE_TTL,
            )
        else:
            entry = _lookup(ids, model_name, now)
        if isinstance(entry, _Miss):
            from loguru import logger

            logger.debug(
                "genai-prices has no price for {}:{}: {}", provider, model_name, entry.reason
            )
        _cache[key] = entry
        return entry


def price_usd(provider: str, model_name: str, usage: Usage) -> float | None:
    """What ``usage`` on ``provider``'s ``model_name`` costs in USD, per genai-prices.

    Args:
        provider: The GlueLLM provider name (``openai``, ``anthropic``, ``xai`` ...).
        model_name: The model without its provider prefix (``gpt-4o-mini``).
        usage: The tokens used.

    Returns:
        The cost, or None when genai-prices does not know the model or provider.
    """
    entry = _entry(provider, model_name)
    if isinstance(entry, _Miss):
        return None
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    if entry.linear:
        return float(_linear_cost(prompt, completion, entry))
    calculated = entry.model.calc_price(_genai_usage(prompt, completion), entry.provider)
    return float(calculated.total_price)


def clear_cache() -> None:
    """Forget every looked-up price (tests; or after updating genai-prices' data)."""
    with _lock:
        _cache.clear()
