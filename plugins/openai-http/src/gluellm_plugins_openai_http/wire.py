"""The chat-completions and embeddings wire format, both ways, on plain dicts.

Requests are built as dicts for orjson; answers arrive as the dicts orjson parsed, and
become GlueLLM's `ModelResponse` and `StreamDelta` without any intermediate model.
"""

from __future__ import annotations

import base64
import re
import sys
from array import array
from collections.abc import Mapping
from typing import Any

from gluellm.call import (
    ModelCall,
    ModelResponse,
    StreamDelta,
    ToolCallDelta,
    ToolCallRequest,
    Usage,
)

TRANSPORT_OPTIONS = frozenset({"extra_headers", "extra_body", "extra_query", "timeout"})
"""Options that shape the request rather than go into its body (openai SDK names)."""

_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")
_formats: dict[type[Any], dict[str, Any]] = {}


def json_schema_format(model: type[Any]) -> dict[str, Any]:
    """``response_format`` asking for JSON shaped like the pydantic class ``model``.

    Not ``strict``: strict mode rejects common pydantic schemas (optional fields,
    defaults), and core validates the answer and re-asks with the errors anyway.
    """
    cached = _formats.get(model)
    if cached is None:
        schema_of = getattr(model, "model_json_schema", None)
        schema = schema_of() if callable(schema_of) else {"type": "object"}
        name = _SCHEMA_NAME.sub("_", getattr(model, "__name__", "response"))[:64] or "response"
        cached = _formats[model] = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema},
        }
    return cached


def chat_body(call: ModelCall) -> dict[str, Any]:
    """The JSON body of a chat-completions request for ``call``."""
    body: dict[str, Any] = {"model": call.model_name, "messages": call.messages}
    if call.tools:
        body["tools"] = call.tools
    if call.response_format is not None:
        body["response_format"] = json_schema_format(call.response_format)
    if call.options:
        _add_options(body, call.options)
    if call.stream:
        body["stream"] = True
        # Usage of a streamed turn arrives only when asked for (OpenAI, vLLM, llama.cpp).
        body.setdefault("stream_options", {"include_usage": True})
    return body


def embeddings_body(call: ModelCall) -> dict[str, Any]:
    """The JSON body of an embeddings request: base64 floats unless the caller chose."""
    body: dict[str, Any] = {
        "model": call.model_name,
        "input": list(call.input),
        "encoding_format": "base64",
    }
    if call.options:
        _add_options(body, call.options)
    return body


def _add_options(body: dict[str, Any], options: Mapping[str, Any]) -> None:
    for name, value in options.items():
        if name == "extra_body" and isinstance(value, Mapping):
            body.update(value)
        elif name not in TRANSPORT_OPTIONS:
            body[name] = value


def extra_headers(call: ModelCall) -> Mapping[str, str] | None:
    """The caller's ``extra_headers`` option, if any."""
    headers = call.options.get("extra_headers") if call.options else None
    return headers if isinstance(headers, Mapping) else None


def usage_of(raw: Any) -> Usage | None:
    """`Usage` from an OpenAI ``usage`` object (None when absent)."""
    if not isinstance(raw, dict):
        return None
    prompt = raw.get("prompt_tokens") or 0
    completion = raw.get("completion_tokens") or 0
    total = raw.get("total_tokens") or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def chat_response(data: Any) -> ModelResponse:
    """A `ModelResponse` from a parsed ``chat.completion`` (its first choice).

    Raises:
        ValueError: ``data`` is not a chat completion.
    """
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise ValueError("not a chat completion (no 'choices' list)")
    usage = usage_of(data.get("usage"))
    model = data.get("model")
    if not data["choices"]:
        return ModelResponse(usage=usage, model=model, raw=data)
    choice = data["choices"][0]
    message = choice.get("message") or {}
    calls = message.get("tool_calls")
    tool_calls: tuple[ToolCallRequest, ...] = ()
    if calls:
        tool_calls = tuple(
            ToolCallRequest(
                id=part.get("id") or f"call_{index}",
                name=part["function"].get("name") or "",
                arguments=part["function"].get("arguments") or "",
            )
            for index, part in enumerate(calls)
            # Custom (non-function) tool calls have no function part: nothing to run.
            if isinstance(part.get("function"), dict)
        )
    return ModelResponse(
        content=message.get("content"),
        tool_calls=tool_calls,
        usage=usage,
        finish_reason=choice.get("finish_reason"),
        model=model,
        raw=data,
    )


def stream_delta(chunk: Any) -> StreamDelta | None:
    """A `StreamDelta` from a parsed ``chat.completion.chunk``, or None if it says nothing."""
    if not isinstance(chunk, dict):
        return None
    usage = usage_of(chunk.get("usage"))
    choices = chunk.get("choices")
    if not choices:
        return StreamDelta(usage=usage) if usage is not None else None
    choice = choices[0]
    delta = choice.get("delta") or {}
    content = delta.get("content") or None
    finish_reason = choice.get("finish_reason")
    parts = delta.get("tool_calls")
    fragments: tuple[ToolCallDelta, ...] = ()
    if parts:
        fragments = tuple(
            ToolCallDelta(
                index=part["index"] if part.get("index") is not None else position,
                id=part.get("id"),
                name=(part.get("function") or {}).get("name"),
                arguments=(part.get("function") or {}).get("arguments") or "",
            )
            for position, part in enumerate(parts)
        )
    if content is None and not fragments and usage is None and finish_reason is None:
        return None
    return StreamDelta(
        content=content, tool_calls=fragments, usage=usage, finish_reason=finish_reason
    )


def _vector(raw: Any) -> list[float]:
    if isinstance(raw, str):
        floats = array("f", base64.b64decode(raw))
        if sys.byteorder != "little":  # the wire sends little-endian float32
            floats.byteswap()
        return floats.tolist()
    if isinstance(raw, list):
        return [float(x) for x in raw]
    raise ValueError(f"an embedding is neither base64 nor a list: {type(raw).__name__}")


def embeddings_response(data: Any) -> ModelResponse:
    """A `ModelResponse` with one vector per input, in input order, from an embeddings list.

    Raises:
        ValueError: ``data`` is not an embeddings list.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError("not an embeddings list (no 'data' list)")
    items = sorted(data["data"], key=lambda item: item.get("index", 0))
    usage = usage_of(data.get("usage"))
    return ModelResponse(
        embeddings=[_vector(item.get("embedding")) for item in items],
        usage=usage,
        model=data.get("model"),
        raw=data,
    )
