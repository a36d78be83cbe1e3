"""Deterministic answers for requests nobody scripted, and the helpers the encoders share.

Default answer, in order: a forced tool choice calls that tool with schema-valid
arguments; a JSON-schema response format gets schema-valid JSON; otherwise text that
echoes the last user message (or the tool results, after a tool turn). Tools that are
merely offered are never called by default.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Mapping
from typing import Any

from gluellm_plugins_mock.fake_server.steps import FakeReply, FakeToolCall, RecordedRequest
from gluellm_plugins_mock.schema_values import value_for_schema

LONG_TEXT = " ".join(
    f"word{i}" for i in range(1, 61)
)  # what Fault.cut_stream streams when nothing else is given
GREETING = "Hello from the fake provider."
_TOKEN = re.compile(r"\s*\S+")
ARGUMENT_PIECE = 8
"""Characters of tool-call arguments per streamed fragment, so JSON arrives split."""


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces (leading space kept) that join back to it."""
    pieces = _TOKEN.findall(text)
    rest = text[sum(map(len, pieces)) :]
    if rest:
        if pieces:
            pieces[-1] += rest
        else:
            pieces.append(rest)
    return pieces


def split_arguments(text: str) -> list[str]:
    """Split tool-call arguments into fragments, as providers stream them."""
    return [text[i : i + ARGUMENT_PIECE] for i in range(0, len(text), ARGUMENT_PIECE)] or [""]


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Mapping):
        if isinstance(part.get("text"), str):
            return str(part["text"])
        if "content" in part:  # Anthropic tool_result blocks nest their output
            return content_text(part["content"])
        if "input" in part:
            return json.dumps(part["input"])
    return ""


def content_text(content: Any) -> str:
    """The text of a message's content: a string or a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(filter(None, (_part_text(part) for part in content)))
    return ""


def _tool_results(message: Mapping[str, Any]) -> list[str] | None:
    """The tool outputs a message carries, or None if it is not a tool-result message."""
    if message.get("role") == "tool":
        return [content_text(message.get("content"))]
    content = message.get("content")
    if message.get("role") == "user" and isinstance(content, list):
        results = [
            content_text(block.get("content"))
            for block in content
            if isinstance(block, Mapping) and block.get("type") == "tool_result"
        ]
        return results or None
    return None


def default_text(request: RecordedRequest) -> str:
    """Echo the last user message, or summarize tool results after a tool turn."""
    messages = request.messages
    if messages:
        results = _tool_results(messages[-1])
        if results is not None:
            return "Tool results: " + "; ".join(results)
    for message in reversed(messages):
        if message.get("role") == "user":
            text = content_text(message.get("content"))
            if text:
                return f"Echo: {text}"
    return GREETING


def _forced_tool(body: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The (name, parameters schema) of a tool the request forces, if any."""
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    schemas: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        function = tool.get("function")
        if isinstance(function, Mapping):  # OpenAI
            schemas[str(function.get("name"))] = function.get("parameters") or {}
        elif "name" in tool:  # Anthropic
            schemas[str(tool["name"])] = tool.get("input_schema") or {}
    if not schemas:
        return None
    name: str | None = None
    if choice == "required" or (isinstance(choice, Mapping) and choice.get("type") == "any"):
        name = next(iter(schemas))
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping):
            name = function.get("name")
        elif choice.get("type") == "tool":
            name = choice.get("name")
    if name is None or name not in schemas:
        return None
    return name, schemas[name]


def _json_schema(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The JSON schema the answer must follow, from either provider's request shape."""
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema")
        return schema if isinstance(schema, Mapping) else {}
    config = body.get("output_config")
    candidates = [config.get("format") if isinstance(config, Mapping) else None]
    candidates.append(body.get("output_format"))
    for fmt in candidates:
        if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
            found = fmt.get("schema")
            return found if isinstance(found, Mapping) else {}
    return None


def default_reply(request: RecordedRequest) -> FakeReply:
    """The answer to a chat request that nothing scripted."""
    body = request.body
    forced = _forced_tool(body)
    if forced is not None:
        name, parameters = forced
        arguments = json.dumps(value_for_schema(parameters, name))
        return FakeReply(calls=(FakeToolCall(name, arguments),))
    schema = _json_schema(body)
    if schema is not None:
        return FakeReply(content=json.dumps(value_for_schema(schema, "value")))
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_object":
        return FakeReply(content=json.dumps({"text": default_text(request)}))
    return FakeReply(content=default_text(request))


def _words(text: str) -> int:
    return len(text.split())


def estimate_usage(request: RecordedRequest, reply: FakeReply) -> tuple[int, int]:
    """(prompt, completion) tokens when the reply does not say: word counts, at least 1."""
    if reply.usage is not None:
        return reply.usage
    prompt = sum(_words(content_text(m.get("content"))) for m in request.messages)
    system = request.body.get("system")
    if system is not None:
        prompt += _words(content_text(system))
    completion = _words(reply.content or "")
    for call in reply.calls:
        completion += 1 + _words(call.arguments)
    return max(prompt, 1), max(completion, 1)


@functools.lru_cache(maxsize=4096)
def embedding(text: str, dimension: int) -> tuple[float, ...]:
    """A deterministic unit vector for ``text``: equal texts give equal vectors."""
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    rng = random.Random(seed)
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return tuple(x / norm for x in vector)


def embedding_base64(vector: tuple[float, ...]) -> str:
    """``vector`` as OpenAI's base64 encoding (little-endian float32)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
