"""Translate between GlueLLM's call/response objects and any-llm's OpenAI-shaped ones."""

from __future__ import annotations

import re
from typing import Any

from gluellm.call import (
    ModelCall,
    ModelResponse,
    StreamDelta,
    ToolCallDelta,
    ToolCallRequest,
    Usage,
)
from gluellm.correlation import CORRELATION_HEADER
from gluellm_plugins_anyllm.traits import ProviderTraits

ANTHROPIC_DEFAULT_MAX_TOKENS = 8192
"""Anthropic requires ``max_tokens``; any-llm fills in this value but logs a warning
on every call, so the transport sends it itself (callers override with max_tokens=)."""

_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


_formats: dict[type[Any], dict[str, Any]] = {}


def json_schema_format(model: type[Any]) -> dict[str, Any]:
    """The ``response_format`` asking for native JSON-schema output shaped like ``model``.

    A dict rather than the pydantic class: given the class, any-llm parses the answer
    itself and raises on invalid JSON, while GlueLLM's core wants the text so it can
    validate and re-ask with the error.
    """
    cached = _formats.get(model)
    if cached is not None:
        return cached
    # Building a schema takes a millisecond or more; classes are few, so keep them all.
    schema_of = getattr(model, "model_json_schema", None)
    schema = schema_of() if callable(schema_of) else {"type": "object"}
    name = _SCHEMA_NAME.sub("_", getattr(model, "__name__", "response"))[:64] or "response"
    built = _formats[model] = {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema},
    }
    return built


def request_kwargs(call: ModelCall, traits: ProviderTraits) -> dict[str, Any]:
    """Keyword arguments for ``AnyLLM.acompletion`` (everything but the messages)."""
    kwargs: dict[str, Any] = dict(call.options)
    if call.tools:
        kwargs["tools"] = list(call.tools)
    if call.response_format is not None:
        kwargs["response_format"] = json_schema_format(call.response_format)
    if call.stream:
        kwargs["stream"] = True
        if traits.openai_style:
            # OpenAI-style servers only report a streamed turn's usage when asked.
            kwargs.setdefault("stream_options", {"include_usage": True})
    if call.timeout is not None and traits.per_request_timeout:
        kwargs["timeout"] = call.timeout
    if traits.openai_style or traits.anthropic_style:
        # Only these SDKs take extra_headers; others would reject the keyword.
        headers = dict(kwargs.get("extra_headers") or {})
        headers[CORRELATION_HEADER] = call.correlation_id
        kwargs["extra_headers"] = headers
    if traits.anthropic_style and "max_tokens" not in kwargs:
        kwargs["max_tokens"] = ANTHROPIC_DEFAULT_MAX_TOKENS
    return kwargs


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    prompt = getattr(raw, "prompt_tokens", None) or 0
    completion = getattr(raw, "completion_tokens", None) or 0
    total = getattr(raw, "total_tokens", None) or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def to_model_response(completion: Any) -> ModelResponse:
    """A `ModelResponse` from any-llm's ``ChatCompletion`` (first choice)."""
    choices = getattr(completion, "choices", None) or ()
    usage = _usage(getattr(completion, "usage", None))
    model = getattr(completion, "model", None)
    if not choices:
        return ModelResponse(usage=usage, model=model, raw=completion)
    choice = choices[0]
    message = choice.message
    tool_calls = tuple(
        ToolCallRequest(
            id=call.id or f"call_{index}",
            name=call.function.name,
            arguments=call.function.arguments or "",
        )
        for index, call in enumerate(message.tool_calls or ())
        # Custom (non-function) tool calls have no function part; GlueLLM cannot run them.
        if getattr(call, "function", None) is not None
    )
    return ModelResponse(
        content=message.content,
        tool_calls=tool_calls,
        usage=usage,
        finish_reason=choice.finish_reason,
        model=model,
        raw=completion,
    )


def to_stream_delta(chunk: Any) -> StreamDelta | None:
    """A `StreamDelta` from any-llm's ``ChatCompletionChunk``, or None if it says nothing."""
    usage = _usage(getattr(chunk, "usage", None))
    choices = getattr(chunk, "choices", None) or ()
    if not choices:
        return StreamDelta(usage=usage) if usage is not None else None
    choice = choices[0]
    delta = choice.delta
    fragments = tuple(
        ToolCallDelta(
            index=fragment.index if fragment.index is not None else position,
            id=fragment.id,
            name=fragment.function.name if fragment.function is not None else None,
            arguments=(fragment.function.arguments or "") if fragment.function is not None else "",
        )
        for position, fragment in enumerate(getattr(delta, "tool_calls", None) or ())
    )
    content = getattr(delta, "content", None) or None
    finish_reason = choice.finish_reason
    if content is None and not fragments and usage is None and finish_reason is None:
        return None
    return StreamDelta(
        content=content, tool_calls=fragments, usage=usage, finish_reason=finish_reason
    )
