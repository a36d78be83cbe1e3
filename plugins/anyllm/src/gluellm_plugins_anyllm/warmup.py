"""Do the provider SDKs' first-use work in the worker thread, not in the first call.

After ``import any_llm``, the first request still costs 0.2-0.6 s on the event loop,
inside the per-attempt timeout: the SDK client imports its resources at first use
(``client.chat`` imports the openai SDK's chat module), pydantic builds the response
models' validators at their first validation, and httpx loads its anyio backend at
its first connection. `warm_up` does all of that where the client is built, in a
worker thread, once per process and provider style.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from gluellm_plugins_anyllm.traits import ProviderTraits

# The SDK client's resources a chat or embedding call touches first.
_LAZY_RESOURCES = (("chat", "completions"), ("messages",), ("embeddings",))

# Modules whose response models the first answer validates, per SDK.
_OPENAI_MODELS = ("openai.types.chat", "openai.types", "any_llm.types.completion")
_ANTHROPIC_MODELS = (
    "anthropic.types",
    "anthropic.lib.streaming._types",
    "any_llm.types.completion",
)
# httpx picks its anyio backend at the first connection (the aiohttp stack does not).
_FIRST_CONNECTION = ("anyio._backends._asyncio", "anyio.streams.tls")

_done: set[str] = set()
_lock = threading.Lock()


def warm_client(llm: Any) -> None:
    """Touch the SDK client's lazily imported resources (cheap after the first time)."""
    client = getattr(llm, "client", None)
    for path in _LAZY_RESOURCES:
        target = client
        try:
            for name in path:
                target = getattr(target, name, None)
        except Exception:  # a provider SDK without this resource, or one that fails
            continue


def warm_up(traits: ProviderTraits) -> None:
    """Build the response models and load the modules a first call needs; blocking.

    Best effort: a failure here only leaves the work to the first call.
    """
    modules: tuple[str, ...] = _FIRST_CONNECTION
    if traits.openai_style:
        modules += _OPENAI_MODELS
    if traits.anthropic_style:
        modules += _ANTHROPIC_MODELS
    with _lock:
        todo = [name for name in modules if name not in _done]
        _done.update(todo)
    for name in todo:
        _complete_models(name)


def _complete_models(module_name: str) -> None:
    from pydantic import BaseModel

    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return
    for value in list(vars(module).values()):
        if (
            isinstance(value, type)
            and issubclass(value, BaseModel)
            and not value.__pydantic_complete__
        ):
            try:
                value.model_rebuild()
            except Exception:  # a model that cannot be built yet builds at first use
                continue
