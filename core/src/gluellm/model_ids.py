"""Parsing model strings: ``provider:model`` (preferred) and ``provider/model``."""

from __future__ import annotations

from functools import lru_cache

from gluellm.errors import ConfigurationError


@lru_cache(maxsize=256)
def split_model(model: str) -> tuple[str, str]:
    """Split a model string into ``(provider, model_name)``.

    The first ``:`` separates the provider unless a ``/`` comes before it, so
    ``ollama:llama3:8b`` is ``("ollama", "llama3:8b")`` and
    ``openrouter:meta-llama/llama-3`` is ``("openrouter", "meta-llama/llama-3")``.

    Raises:
        ConfigurationError: The string names no provider or no model.
    """
    colon, slash = model.find(":"), model.find("/")
    if colon > 0 and (slash < 0 or colon < slash):
        provider, name = model[:colon], model[colon + 1 :]
    elif slash > 0:
        provider, name = model[:slash], model[slash + 1 :]
    else:
        provider, name = "", model
    if not provider or not name:
        raise ConfigurationError(
            f"Model {model!r} does not name a provider. Write it as 'provider:model', "
            "for example 'openai:gpt-4o-mini' or 'anthropic:claude-3-5-sonnet-20241022'."
        )
    return provider.lower(), name
