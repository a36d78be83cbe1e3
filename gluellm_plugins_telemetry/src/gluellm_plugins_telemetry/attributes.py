"""Span attribute names and values: the spec's ``llm.*`` / ``tool.*`` and GenAI semconv.

GenAI names follow the OpenTelemetry GenAI semantic conventions (development status):
``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.*``,
``gen_ai.response.*``, ``gen_ai.usage.*``, ``gen_ai.tool.*``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gluellm.logging_config import redact_secrets

CORRELATION_ID = "gluellm.correlation_id"
COST = "gluellm.cost_usd"

REQUEST_PARAMS = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "stop": "gen_ai.request.stop_sequences",
    "n": "gen_ai.request.choice.count",
}
"""Model parameters (``run.options`` / ``call.options``) -> GenAI request attributes."""

Primitive = str | bool | int | float


def attribute_value(value: Any) -> Primitive | list[Any] | None:
    """``value`` as an OpenTelemetry attribute value (JSON text for anything else)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Sequence) and all(isinstance(v, str | bool | int | float) for v in value):
        items = list(value)
        return items if len({type(v) for v in items}) <= 1 else [str(v) for v in items]
    return json.dumps(value, default=str)


def request_attributes(options: Mapping[str, Any]) -> dict[str, Any]:
    """GenAI request attributes for the model parameters in ``options``."""
    found: dict[str, Any] = {}
    for key, name in REQUEST_PARAMS.items():
        value = options.get(key)
        if value is None:
            continue
        if key == "stop" and isinstance(value, str):
            value = [value]
        found[name] = attribute_value(value)
    return found


def model_attributes(model: str | None) -> dict[str, Any]:
    """``llm.provider`` / ``llm.model`` and their GenAI twins for a model string."""
    if not model:
        return {}
    from gluellm.model_ids import split_model

    try:
        provider, name = split_model(model)
    except Exception:  # no provider part: record the string as the model
        provider, name = "", model
    found: dict[str, Any] = {"llm.model": name, "gen_ai.request.model": name}
    if provider:
        found["llm.provider"] = provider
        found["gen_ai.provider.name"] = provider
    return found


def usage_attributes(prompt: int, completion: int, total: int) -> dict[str, int]:
    """The spec's token attributes and the GenAI usage attributes."""
    return {
        "llm.tokens.prompt": prompt,
        "llm.tokens.completion": completion,
        "llm.tokens.total": total,
        "gen_ai.usage.input_tokens": prompt,
        "gen_ai.usage.output_tokens": completion,
    }


def error_attributes(error: BaseException) -> dict[str, str]:
    """``error.type`` and a redacted message."""
    return {"error.type": type(error).__name__, "error.message": redact_secrets(str(error))}


def content(value: Any) -> str:
    """Message content as recorded (opt-in only): JSON text, secrets redacted."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return redact_secrets(text)
