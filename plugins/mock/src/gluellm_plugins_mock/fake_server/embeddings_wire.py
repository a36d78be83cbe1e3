"""OpenAI's ``POST /v1/embeddings``: validation, scripted faults, and the answer.

The request is checked as OpenAI checks it (a model, a non-empty input of at most
``server.embedding_input_limit`` items, a known ``encoding_format``) and rejected with
OpenAI's real 400 bodies. Otherwise it consumes the next scripted step, like a chat
request: a fault (429 with Retry-After, 5xx, a dropped connection, a delay ...) is
played as it would be for a chat, and None gives the default answer: deterministic
unit vectors (floats, or base64 float32 when asked, as the openai SDK does by default)
with usage counted in words.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gluellm_plugins_mock.fake_server import openai_wire
from gluellm_plugins_mock.fake_server.playback import (
    answer_fault,
    drop,
    error_response,
    json_response,
    request_id,
)
from gluellm_plugins_mock.fake_server.steps import (
    CutStreamFault,
    DelayFault,
    DropConnectionFault,
    EarlyEndFault,
    RecordedRequest,
    StatusFault,
    StreamErrorFault,
)

if TYPE_CHECKING:
    from gluellm_plugins_mock.fake_server.server import FakeProviderServer

EMBEDDING_PATHS = frozenset({"/v1/embeddings", "/embeddings"})
"""Paths of OpenAI embedding requests."""

EMBEDDING_INPUT_LIMIT = 2048
"""Inputs per request OpenAI accepts (the fake server's default limit)."""

INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)
"""OpenAI's message for an empty input or one with too many items."""

_NO_DIMENSIONS = {"text-embedding-ada-002"}  # models that reject ``dimensions``


def is_embedding(record: RecordedRequest) -> bool:
    """Whether ``record`` is an OpenAI embeddings request."""
    return record.method == "POST" and record.path in EMBEDDING_PATHS


def input_count(raw: Any) -> int:
    """How many inputs OpenAI counts in ``input``: a text or a token list is one."""
    if isinstance(raw, list) and raw and not all(isinstance(x, int) for x in raw):
        return len(raw)
    return 1


def _invalid(message: str) -> StatusFault:
    return StatusFault(400, message=message)


def check(body: Any, limit: int) -> StatusFault | None:
    """The 400 OpenAI answers for ``body``, or None when it would accept it."""
    if not isinstance(body, dict):
        return _invalid("We could not parse the JSON body of your request.")
    if not body.get("model"):
        return _invalid("you must provide a model parameter")
    if "input" not in body:
        return _invalid("'input' is a required property")
    raw = body["input"]
    empty = raw in ("", []) or (isinstance(raw, list) and any(x in ("", []) for x in raw))
    if empty or not isinstance(raw, str | list) or input_count(raw) > limit:
        return _invalid(INVALID_INPUT)
    if body.get("encoding_format", "float") not in ("float", "base64"):
        return _invalid(
            "'$.encoding_format' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference."
        )
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if body.get("model") in _NO_DIMENSIONS:
            return _invalid("This model does not support specifying dimensions.")
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            return _invalid(
                f"Invalid value for 'dimensions' = {dimensions}. Must be greater than 0."
            )
    return None


async def answer(
    server: FakeProviderServer, request: web.BaseRequest, record: RecordedRequest
) -> web.StreamResponse:
    """Answer an embeddings request: a 400, a scripted fault, or the vectors."""
    rejected = check(record.json, server.embedding_input_limit)
    if rejected is not None:
        return error_response(record, rejected)
    try:
        step = await server._next_step(record)
        while isinstance(step, DelayFault):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, StatusFault):
            return error_response(record, step)
        if isinstance(step, StreamErrorFault):  # no stream here: the plain error
            return error_response(record, step.error)
        if isinstance(step, DropConnectionFault | CutStreamFault):
            return drop(request)
        answered = answer_fault(record, step)
        if answered is not None:
            return answered
        if isinstance(step, EarlyEndFault):  # complete as HTTP, cut short as JSON
            data = json.dumps(openai_wire.embeddings(record.body, server.embedding_dimension))
            return web.Response(
                body=data[: len(data) // 2].encode(), content_type="application/json"
            )
        if step is not None:
            raise TypeError(
                f"an embeddings request can play None or a Fault, not the chat reply {step!r}"
            )
    except Exception as error:  # a broken script is the test's bug: say so in the answer
        server.errors.append(error)
        message = f"FakeProviderServer could not play its script: {error!r}"
        return error_response(record, StatusFault(500, message=message))
    body = openai_wire.embeddings(record.body, server.embedding_dimension)
    return json_response(body, {"x-request-id": request_id()})
