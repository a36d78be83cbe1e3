"""OpenAI wire format: chat completions (JSON and SSE chunks), embeddings, models.

Stream frames are built from string templates rather than one ``json.dumps`` per chunk,
because this server is also the benchmark target and streams dominate its CPU time.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from gluellm_plugins_mock.fake_server.defaults import (
    embedding,
    embedding_base64,
    split_arguments,
    split_tokens,
)
from gluellm_plugins_mock.fake_server.steps import FakeReply

_ids = itertools.count(1)
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "text-embedding-3-small")
DONE = b"data: [DONE]\n\n"
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    return {
        "prompt_tokens": usage[0],
        "completion_tokens": usage[1],
        "total_tokens": usage[0] + usage[1],
    }


def tool_call_ids(reply: FakeReply) -> list[str]:
    """The IDs of the reply's tool calls: scripted ones, else fresh ``call_...`` IDs."""
    return [call.id or f"call_fake{next(_ids)}" for call in reply.calls]


def chat_completion(reply: FakeReply, model: str, usage: tuple[int, int]) -> dict[str, Any]:
    """A ``chat.completion`` object for ``reply``."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c, call_id in zip(reply.calls, tool_call_ids(reply), strict=True)
        ]
    return {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": _usage(usage),
    }


def chat_chunks(
    reply: FakeReply, model: str, usage: tuple[int, int], *, include_usage: bool
) -> list[bytes]:
    """The SSE frames of a streamed answer, ``data: [DONE]`` included.

    Text arrives one word per chunk; each tool call starts with a chunk carrying its ID and
    name, then its arguments in several fragments. With ``include_usage`` every chunk has
    ``"usage": null`` and a last chunk with no choices carries the usage, as OpenAI does.
    """
    head = (
        f'data: {{"id":"chatcmpl-fake{next(_ids)}","object":"chat.completion.chunk",'
        f'"created":{int(time.time())},"model":{_dumps(model)},"system_fingerprint":"fp_fake",'
    )
    choice_head = head + '"choices":[{"index":0,"delta":'
    tail = ',"usage":null}\n\n' if include_usage else "}\n\n"

    def chunk(delta: str, finish: str = "null") -> bytes:
        return f'{choice_head}{delta},"logprobs":null,"finish_reason":{finish}}}]{tail}'.encode()

    first_content = '""' if reply.content is not None or not reply.calls else "null"
    frames = [chunk(f'{{"role":"assistant","content":{first_content},"refusal":null}}')]
    frames.extend(
        chunk(f'{{"content":{_dumps(piece)}}}') for piece in split_tokens(reply.content or "")
    )
    for index, (call, call_id) in enumerate(zip(reply.calls, tool_call_ids(reply), strict=True)):
        start = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        frames.append(chunk(f'{{"tool_calls":[{_dumps(start)}]}}'))
        frames.extend(
            chunk(f'{{"tool_calls":[{{"index":{index},"function":{{"arguments":{_dumps(p)}}}}}]}}')
            for p in split_arguments(call.arguments)
        )
    frames.append(chunk("{}", f'"{reply.finish_reason}"'))
    if include_usage:
        frames.append(f'{head}"choices":[],"usage":{_dumps(_usage(usage))}}}\n\n'.encode())
    frames.append(DONE)
    return frames


def _inputs(raw: Any) -> list[str]:
    """Embedding inputs as texts: a string, strings, token IDs or lists of token IDs."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        if raw and all(isinstance(x, int) for x in raw):
            return [_dumps(raw)]
        return [x if isinstance(x, str) else _dumps(x) for x in raw]
    return [_dumps(raw)]


def embeddings(body: dict[str, Any], default_dimension: int) -> dict[str, Any]:
    """An embeddings ``list`` for ``body``: deterministic unit vectors, and usage."""
    texts = _inputs(body.get("input", ""))
    dimension = body.get("dimensions")
    if not isinstance(dimension, int) or dimension <= 0:
        dimension = default_dimension
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embedding(text, dimension)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": embedding_base64(vector) if as_base64 else list(vector),
            }
        )
    tokens = max(sum(len(text.split()) for text in texts), 1)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def model_list() -> dict[str, Any]:
    """``GET /v1/models``."""
    return {"object": "list", "data": [model(name) for name in MODELS]}


def model(name: str) -> dict[str, Any]:
    """``GET /v1/models/{name}``: every name exists on the fake server."""
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "gluellm-fake"}
