"""The HTTP side: aiohttp sessions, requests, answers and SSE streams (orjson for JSON).

Imported by the transport's ``prepare`` in a worker thread, so importing aiohttp and
orjson never blocks the event loop or counts against a call's timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import orjson

from gluellm.call import ModelCall, ModelResponse, StreamDelta, ToolCallDelta
from gluellm.errors import APIConnectionError, LLMError
from gluellm_plugins_openai_http import errors, wire
from gluellm_plugins_openai_http.endpoints import Endpoint

USER_AGENT = "gluellm-openai-http/0.1"
NETWORK_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
"""What aiohttp raises when the wire fails (refused, reset, dropped, payload cut)."""


def _default(value: Any) -> Any:
    """Fallback for orjson: mappings as objects, other sequences as arrays."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def dumps(body: dict[str, Any]) -> bytes:
    """``body`` as JSON bytes."""
    return orjson.dumps(body, default=_default)


loads = orjson.loads


def new_session(max_connections: int) -> aiohttp.ClientSession:
    """A session for the running loop: pooled keep-alive connections, no total timeout.

    The per-attempt timeout is core's (``call.timeout``); only connecting gets a bound
    of its own, so a dead host fails in 30 s even without one.
    """
    connector = aiohttp.TCPConnector(limit=max_connections, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        headers={"User-Agent": USER_AGENT},
    )


class Sender:
    """Sends one provider's requests on a session; turns answers into GlueLLM objects.

    Args:
        provider: The provider name, for messages.
    """

    __slots__ = ("provider",)

    def __init__(self, provider: str) -> None:
        self.provider = provider

    async def chat(
        self, session: aiohttp.ClientSession, endpoint: Endpoint, call: ModelCall
    ) -> ModelResponse:
        """Send a chat call; for ``call.stream``, return once the first chunk arrived."""
        headers = endpoint.request_headers(call.correlation_id)
        extra = wire.extra_headers(call)
        if extra:
            headers.update(extra)
        data = dumps(wire.chat_body(call))
        if call.stream:
            return await self._open_stream(session, endpoint, call, data, headers)
        # Inline rather than through `_post`: a coroutine frame less on every resume.
        try:
            async with session.post(endpoint.chat_url, data=data, headers=headers) as resp:
                status, answer_headers, body = resp.status, resp.headers, await resp.read()
        except NETWORK_ERRORS as error:
            raise errors.network_error(
                error, provider=self.provider, correlation_id=call.correlation_id
            ) from error
        if status >= 400:
            raise self._status_error(status, answer_headers, body, endpoint, call)
        return self._parse(wire.chat_response, status, answer_headers, body, endpoint, call)

    async def embed(
        self, session: aiohttp.ClientSession, endpoint: Endpoint, call: ModelCall
    ) -> ModelResponse:
        """Send an embeddings call: one vector per ``call.input`` text, in order."""
        headers = endpoint.request_headers(call.correlation_id)
        extra = wire.extra_headers(call)
        if extra:
            headers.update(extra)
        data = dumps(wire.embeddings_body(call))
        url = endpoint.embeddings_url
        status, answer_headers, body = await self._post(session, endpoint, call, data, headers, url)
        if status >= 400:
            raise self._status_error(status, answer_headers, body, endpoint, call)
        return self._parse(wire.embeddings_response, status, answer_headers, body, endpoint, call)

    async def _post(
        self,
        session: aiohttp.ClientSession,
        endpoint: Endpoint,
        call: ModelCall,
        data: bytes,
        headers: dict[str, str],
        url: str | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        # On cancellation aiohttp closes the connection (it cannot be reused half-read).
        try:
            async with session.post(url or endpoint.chat_url, data=data, headers=headers) as resp:
                return resp.status, resp.headers, await resp.read()
        except NETWORK_ERRORS as error:
            raise errors.network_error(
                error, provider=self.provider, correlation_id=call.correlation_id
            ) from error

    def _status_error(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        endpoint: Endpoint,
        call: ModelCall,
    ) -> LLMError:
        return errors.status_error(
            status,
            headers,
            body,
            loads,
            provider=self.provider,
            correlation_id=call.correlation_id,
            key=endpoint.key,
        )

    def _parse(
        self,
        parse: Any,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        endpoint: Endpoint,
        call: ModelCall,
    ) -> ModelResponse:
        try:
            response: ModelResponse = parse(loads(body))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise errors.unexpected_body(
                status,
                headers.get("Content-Type", ""),
                body,
                provider=self.provider,
                correlation_id=call.correlation_id,
                key=endpoint.key,
            ) from error
        return response

    async def _open_stream(
        self,
        session: aiohttp.ClientSession,
        endpoint: Endpoint,
        call: ModelCall,
        data: bytes,
        headers: dict[str, str],
    ) -> ModelResponse:
        try:
            resp = await session.post(endpoint.chat_url, data=data, headers=headers)
        except NETWORK_ERRORS as error:
            raise errors.network_error(
                error, provider=self.provider, correlation_id=call.correlation_id
            ) from error
        try:
            content_type = resp.headers.get("Content-Type", "")
            if resp.status >= 400 or not content_type.startswith("text/event-stream"):
                body = await resp.read()
                resp.release()
                if resp.status >= 400:
                    raise self._status_error(resp.status, resp.headers, body, endpoint, call)
                # A server that ignored stream=true and answered in one piece.
                whole = self._parse(
                    wire.chat_response, resp.status, resp.headers, body, endpoint, call
                )
                return ModelResponse(stream=_Replay(whole))
            stream = SSEStream(resp, self.provider, call.correlation_id, endpoint.key)
            # Read up to the first chunk now: a failure before it is retried by the pipeline.
            await stream.prefetch()
        except NETWORK_ERRORS as error:
            resp.close()
            raise errors.network_error(
                error, provider=self.provider, correlation_id=call.correlation_id
            ) from error
        except BaseException:
            resp.close()
            raise
        return ModelResponse(stream=stream)


class _Replay:
    """A whole answer as a one-chunk stream (for servers that do not stream)."""

    def __init__(self, response: ModelResponse) -> None:
        self._deltas = [
            StreamDelta(
                content=response.content,
                tool_calls=tuple(
                    ToolCallDelta(index=i, id=c.id, name=c.name, arguments=c.arguments)
                    for i, c in enumerate(response.tool_calls)
                ),
                usage=response.usage,
                finish_reason=response.finish_reason or "stop",
            )
        ]

    def __aiter__(self) -> _Replay:
        return self

    async def __anext__(self) -> StreamDelta:
        if not self._deltas:
            raise StopAsyncIteration
        return self._deltas.pop()

    async def aclose(self) -> None:
        """Nothing to close: the answer was read whole."""
        self._deltas.clear()


class SSEStream:
    """The deltas of a streamed chat turn, read from its server-sent events.

    Ends cleanly only after a chunk with a finish reason (then ``data: [DONE]`` or the
    end of the body); a stream that ends before raises a retry-safe
    `APIConnectionError`. Closing it early closes the connection, so the server stops
    generating.

    Args:
        response: The open aiohttp response.
        provider: The provider, for messages.
        correlation_id: The call's correlation ID, for messages.
        key: The API key, masked in messages.
    """

    def __init__(
        self, response: aiohttp.ClientResponse, provider: str, correlation_id: str, key: str | None
    ) -> None:
        self._response = response
        self._content = response.content
        self._provider = provider
        self._correlation_id = correlation_id
        self._key = key
        self._buffer = b""
        self._chunks = 0
        self._finished = False  # a finish reason arrived
        self._ended = False  # the body ended, or the stream was closed
        self._first: StreamDelta | None = None

    def __aiter__(self) -> SSEStream:
        return self

    async def prefetch(self) -> None:
        """Read up to the first delta, keeping it for the first ``__anext__``."""
        try:
            self._first = await self._read()
        except StopAsyncIteration:
            self._first = None

    async def __anext__(self) -> StreamDelta:
        first = self._first
        if first is not None:
            self._first = None
            return first
        try:
            return await self._read()
        except asyncio.CancelledError:
            self._close()
            raise
        except NETWORK_ERRORS as error:
            self._close()
            raise APIConnectionError(
                f"The {self._provider} stream broke: {type(error).__name__}: "
                f"{error or 'connection lost'} (correlation ID {self._correlation_id})"
            ) from error

    async def _read(self) -> StreamDelta:
        while not self._ended:
            line = await self._line()
            if line is None:
                self._end()
                break
            if not line.startswith(b"data:"):
                continue  # blank separators, "event:" lines, ": keep-alive" comments
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self._end()
                break
            try:
                chunk = loads(payload)
            except ValueError as error:
                self._close()
                raise APIConnectionError(
                    f"The {self._provider} stream sent a frame that is not JSON: "
                    f"{errors.mask(payload[:80].decode('utf-8', 'replace'), self._key)!r} "
                    f"(correlation ID {self._correlation_id})"
                ) from error
            failure = errors.stream_error_frame(
                chunk,
                provider=self._provider,
                correlation_id=self._correlation_id,
                key=self._key,
            )
            if failure is not None:
                self._close()
                raise failure
            delta = wire.stream_delta(chunk)
            if delta is None:
                continue
            self._chunks += 1
            if delta.finish_reason is not None:
                self._finished = True
            return delta
        if not self._finished:
            raise errors.incomplete_stream(self._provider, self._correlation_id, self._chunks)
        raise StopAsyncIteration

    async def _line(self) -> bytes | None:
        """The next line of the body without its newline; None at the end."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\n")
            if end >= 0:
                self._buffer = buffer[end + 1 :]
                return buffer[:end]
            data = await self._content.readany()
            if not data:
                self._buffer = b""
                return buffer or None
            buffer += data

    def _end(self) -> None:
        """The body ended normally: give the connection back to the pool."""
        self._ended = True
        self._response.release()

    def _close(self) -> None:
        """Stop early: close the connection so the server stops generating."""
        self._ended = True
        self._response.close()

    async def aclose(self) -> None:
        """Close the stream; before its end this closes the connection."""
        self._first = None
        if not self._ended:
            self._close()
