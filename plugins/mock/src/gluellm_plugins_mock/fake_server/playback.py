"""Playing one scripted step as an HTTP answer: JSON, SSE stream, error, or a hang-up."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import TYPE_CHECKING, Any, TypeAlias

from aiohttp import web

from gluellm_plugins_mock.fake_server import anthropic_wire, openai_wire
from gluellm_plugins_mock.fake_server.defaults import LONG_TEXT, default_reply, estimate_usage
from gluellm_plugins_mock.fake_server.errors import (
    anthropic_error,
    anthropic_stream_error,
    openai_error,
    openai_stream_error,
)
from gluellm_plugins_mock.fake_server.steps import (
    CutStreamFault,
    DelayFault,
    DropConnectionFault,
    EarlyEndFault,
    EchoKeyFault,
    FakeReply,
    RawBodyFault,
    RecordedRequest,
    StatusFault,
    Step,
    StreamErrorFault,
)

if TYPE_CHECKING:
    from gluellm_plugins_mock.fake_server.server import FakeProviderServer

Ending: TypeAlias = "tuple[int, bytes | None]"
"""How a faulty answer ends: after N frames, send this error frame (None: hang up).

An empty frame ends the response cleanly, with the answer unfinished.
"""

_request_ids = itertools.count(1)
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}


def request_id() -> str:
    """A fresh ``req_...`` ID for the ``x-request-id`` / ``request-id`` header."""
    return f"req_fake{next(_request_ids)}"


def json_response(body: Any, headers: dict[str, str], status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.Response(
        body=_dumps(body).encode(), status=status, headers=headers, content_type="application/json"
    )


def error_response(record: RecordedRequest, fault: StatusFault) -> web.Response:
    """``fault`` in the error shape of the API the request was made to."""
    make = anthropic_error if record.api == "anthropic" else openai_error
    body, headers = make(fault, request_id())
    return json_response(body, headers, fault.http_status)


def drop(
    request: web.BaseRequest, response: web.StreamResponse | None = None
) -> web.StreamResponse:
    """Close the connection; aiohttp then fails quietly to send ``response``."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return response if response is not None else web.Response()


def _as_reply(step: Step, record: RecordedRequest) -> FakeReply:
    if step is None:
        return default_reply(record)
    if isinstance(step, str):
        return FakeReply(content=step)
    if isinstance(step, FakeReply):
        return step
    raise TypeError(f"a step must be a FakeReply, Fault, str or None, not {step!r}")


async def play(
    server: FakeProviderServer, request: web.BaseRequest, record: RecordedRequest
) -> web.StreamResponse:
    """Answer a chat request with the next scripted step, or the default answer."""
    if not isinstance(record.json, dict):  # real providers reject it before any model runs
        message = "We could not parse the JSON body of your request."
        return error_response(record, StatusFault(400, message=message))
    ending: Ending | None = None
    try:
        step = await server._next_step(record)
        while isinstance(step, DelayFault):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, StatusFault):
            return error_response(record, step)
        if isinstance(step, DropConnectionFault):
            return drop(request)
        answered = answer_fault(record, step)
        if answered is not None:
            return answered
        if isinstance(step, StreamErrorFault):
            if not record.stream:
                return error_response(record, step.error)
            make = anthropic_stream_error if record.api == "anthropic" else openai_stream_error
            ending = (step.after_chunks, make(step.error))
            step = step.then
        elif isinstance(step, CutStreamFault):
            ending = (step.after_chunks, None)
            step = step.then if step.then is not None else LONG_TEXT
        elif isinstance(step, EarlyEndFault):
            ending = (step.after_chunks, b"")
            step = step.then if step.then is not None else LONG_TEXT
        reply = _as_reply(step, record)
    except Exception as error:  # a broken script is the test's bug: say so in the answer
        server.errors.append(error)
        message = f"FakeProviderServer could not play its script: {error!r}"
        return error_response(record, StatusFault(500, message=message))
    usage = estimate_usage(record, reply)
    if record.api == "anthropic":
        model = record.model or anthropic_wire.MODELS[0]
        headers = {"request-id": request_id()}
        if record.stream:
            frames = anthropic_wire.message_events(reply, model, usage)
            return await _send_stream(server, request, frames, headers, ending)
        body = anthropic_wire.message(reply, model, usage)
    else:
        model = record.model or openai_wire.MODELS[0]
        headers = {"x-request-id": request_id()}
        if record.stream:
            options = record.body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            frames = openai_wire.chat_chunks(reply, model, usage, include_usage=include_usage)
            return await _send_stream(server, request, frames, headers, ending)
        body = openai_wire.chat_completion(reply, model, usage)
    if ending is None:
        return json_response(body, headers)
    if ending[1] is not None:
        return _truncated_json(body, headers)
    return await _send_cut_json(request, body, headers)


def answer_fault(record: RecordedRequest, step: Step) -> web.Response | None:
    """The whole answer for a fault that replaces the API's answer, else None."""
    if isinstance(step, RawBodyFault):
        return web.Response(
            body=step.body,
            status=step.http_status,
            headers={"Content-Type": step.content_type},
        )
    if isinstance(step, EchoKeyFault):
        key = record.headers.get("x-api-key") or record.headers.get("Authorization", "")
        key = key.removeprefix("Bearer ").strip()
        fault = StatusFault(step.http_status, message=f"Invalid API key provided: {key}")
        return error_response(record, fault)
    return None


def _truncated_json(body: dict[str, Any], headers: dict[str, str]) -> web.Response:
    # A body that is complete as HTTP (its length is right) but not as JSON.
    data = _dumps(body).encode()
    return web.Response(
        body=data[: len(data) // 2], headers=headers, content_type="application/json"
    )


async def _send_cut_json(
    request: web.BaseRequest, body: dict[str, Any], headers: dict[str, str]
) -> web.StreamResponse:
    # Promise the whole body, send half of it, hang up: an incomplete read for the client.
    data = _dumps(body).encode()
    response = web.StreamResponse(headers=headers)
    response.content_type = "application/json"
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    return drop(request, response)


async def _send_stream(
    server: FakeProviderServer,
    request: web.BaseRequest,
    frames: list[bytes],
    headers: dict[str, str],
    ending: Ending | None,
) -> web.StreamResponse:
    response = web.StreamResponse(headers={**_SSE_HEADERS, **headers})
    await response.prepare(request)
    if ending is not None:
        frames = frames[: ending[0]]
        if ending[1] is not None:
            frames.append(ending[1])
    delay = server.stream_chunk_delay
    try:
        if delay > 0:
            for index, frame in enumerate(frames):
                if index:
                    await asyncio.sleep(delay)
                await response.write(frame)
        else:  # one write: the cheapest way to serve benchmark streams
            await response.write(b"".join(frames))
        if ending is not None and ending[1] is None:
            return drop(request, response)
        await response.write_eof()
    except ConnectionResetError:  # the client went away mid-stream
        server.disconnects += 1
    return response
