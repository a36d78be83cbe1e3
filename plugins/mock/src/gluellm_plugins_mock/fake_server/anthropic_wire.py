"""Anthropic wire format: messages (JSON and the SSE event sequence) and models.

The stream follows Anthropic's order: ``message_start``, ``ping``, then per content block
``content_block_start`` / ``content_block_delta``... / ``content_block_stop``, then
``message_delta`` (stop reason and output tokens) and ``message_stop``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from gluellm_plugins_mock.fake_server.defaults import split_arguments, split_tokens
from gluellm_plugins_mock.fake_server.steps import FakeReply, FakeToolCall

_ids = itertools.count(1)
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _input(call: FakeToolCall) -> Any:
    # Anthropic sends tool input as an object. Deliberately malformed arguments cannot be
    # an object, so they travel as the raw string and fail the client's validation.
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return call.arguments
    return value if isinstance(value, dict) else call.arguments


def _stop_reason(reply: FakeReply) -> str:
    return "tool_use" if reply.calls else "end_turn"


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _tool_ids(reply: FakeReply) -> list[str]:
    return [call.id or f"toolu_fake{next(_ids)}" for call in reply.calls]


def message(reply: FakeReply, model: str, usage: tuple[int, int]) -> dict[str, Any]:
    """A ``message`` object for ``reply``."""
    content: list[dict[str, Any]] = []
    if reply.content is not None and (reply.content or not reply.calls):
        content.append({"type": "text", "text": reply.content})
    for call, call_id in zip(reply.calls, _tool_ids(reply), strict=True):
        content.append(
            {"type": "tool_use", "id": call_id, "name": call.name, "input": _input(call)}
        )
    return {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": _usage(*usage),
    }


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def message_events(reply: FakeReply, model: str, usage: tuple[int, int]) -> list[bytes]:
    """The SSE events of a streamed answer: text deltas word by word, tool input in pieces."""
    start: dict[str, Any] = {
        "id": f"msg_fake{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(usage[0], 1),
    }
    events = [
        _event("message_start", f'{{"type":"message_start","message":{_dumps(start)}}}'),
        _event("ping", '{"type":"ping"}'),
    ]
    index = 0
    if reply.content is not None and (reply.content or not reply.calls):
        events.append(
            _event(
                "content_block_start",
                '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
            )
        )
        events.extend(
            _event(
                "content_block_delta",
                f'{{"type":"content_block_delta","index":0,'
                f'"delta":{{"type":"text_delta","text":{_dumps(piece)}}}}}',
            )
            for piece in split_tokens(reply.content)
        )
        events.append(_event("content_block_stop", '{"type":"content_block_stop","index":0}'))
        index = 1
    for call, call_id in zip(reply.calls, _tool_ids(reply), strict=True):
        block = {"type": "tool_use", "id": call_id, "name": call.name, "input": {}}
        events.append(
            _event(
                "content_block_start",
                f'{{"type":"content_block_start","index":{index},"content_block":{_dumps(block)}}}',
            )
        )
        events.extend(
            _event(
                "content_block_delta",
                f'{{"type":"content_block_delta","index":{index},'
                f'"delta":{{"type":"input_json_delta","partial_json":{_dumps(piece)}}}}}',
            )
            for piece in split_arguments(call.arguments)
        )
        events.append(
            _event("content_block_stop", f'{{"type":"content_block_stop","index":{index}}}')
        )
        index += 1
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
        "usage": {"output_tokens": usage[1]},
    }
    events.append(_event("message_delta", _dumps(delta)))
    events.append(_event("message_stop", '{"type":"message_stop"}'))
    return events


def model_list() -> dict[str, Any]:
    """``GET /v1/models`` in Anthropic's paginated shape."""
    data = [
        {
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": "2025-01-01T00:00:00Z",
        }
        for name in MODELS
    ]
    return {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
