"""The fake provider server: an aiohttp server on loopback that speaks OpenAI and Anthropic.

It uses aiohttp's low-level `web.Server` with a dict of routes instead of an
`Application`: no router or middleware work per request, since it doubles as the
benchmark target.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import TypeAlias

from aiohttp import web

from gluellm_plugins_mock.fake_server import anthropic_wire, embeddings_wire, openai_wire
from gluellm_plugins_mock.fake_server.anthropic_batches import AnthropicBatchStore
from gluellm_plugins_mock.fake_server.batches import BatchStore
from gluellm_plugins_mock.fake_server.defaults import estimate_usage
from gluellm_plugins_mock.fake_server.playback import (
    error_response,
    json_response,
    play,
    request_id,
)
from gluellm_plugins_mock.fake_server.steps import FakeReply, RecordedRequest, StatusFault, Step

Responder: TypeAlias = Callable[[RecordedRequest], "Step | Awaitable[Step]"]
"""A function of the request that gives the step to play (None: the default answer)."""
_Route: TypeAlias = Callable[[web.BaseRequest, RecordedRequest], Awaitable[web.StreamResponse]]

_SHUTDOWN_TIMEOUT = 0.5  # open streams and scripted delays must not hold up a test's teardown


class FakeProviderServer:
    """A scriptable OpenAI- and Anthropic-compatible HTTP server on 127.0.0.1.

    Use ``async with server:`` in async code or ``with server.running_in_thread():`` in
    sync code. Script answers with `enqueue` or `responder`; read what arrived in
    `requests`.

    Args:
        latency: Seconds added before every response.
        stream_chunk_delay: Seconds between SSE frames of a streamed answer.
        host: Address to bind; loopback by default.
        port: Port to bind; 0 picks a free one.
        embedding_dimension: Vector length of embeddings when the request does not say.
        record_requests: Keep every request in `requests` (turn off for long benchmarks).
    """

    def __init__(
        self,
        latency: float = 0.0,
        stream_chunk_delay: float = 0.0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        embedding_dimension: int = 16,
        record_requests: bool = True,
    ) -> None:
        self.latency = latency
        self.stream_chunk_delay = stream_chunk_delay
        self.host = host
        self.embedding_dimension = embedding_dimension
        self.record_requests = record_requests
        self.embedding_input_limit = embeddings_wire.EMBEDDING_INPUT_LIMIT
        self.responder: Responder | None = None
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.errors: list[BaseException] = []
        self._queue: deque[Step] = deque()
        self._port = port
        self._runner: web.ServerRunner | None = None
        self._server: web.Server | None = None
        self._stopping = False
        self._routes: dict[tuple[str, str], _Route] = {}
        for prefix in ("/v1", ""):
            self._routes[("POST", f"{prefix}/chat/completions")] = self._chat
            self._routes[("POST", f"{prefix}/messages")] = self._chat
            self._routes[("POST", f"{prefix}/messages/count_tokens")] = self._count_tokens
            self._routes[("POST", f"{prefix}/embeddings")] = self._embeddings
            self._routes[("GET", f"{prefix}/models")] = self._models
        self.batches = BatchStore(self)  # the OpenAI files and batches endpoints
        self._routes.update(self.batches.routes())
        self.anthropic_batches = AnthropicBatchStore(self)  # Anthropic's Message Batches
        self._routes.update(self.anthropic_batches.routes())

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (once started)."""
        if self._runner is None:
            raise RuntimeError("The fake provider server is not running; start it first.")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The base URL OpenAI clients take (``OPENAI_BASE_URL``): ``url + "/v1"``."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The base URL Anthropic clients take (``ANTHROPIC_BASE_URL``): the server URL."""
        return self.url

    # -- scripting and records ---------------------------------------------------------

    def enqueue(self, *steps: Step) -> None:
        """Queue steps; each chat or embeddings request consumes the next one.

        An embeddings request plays a fault or None (the default vectors); a chat reply
        queued for it is a script error, answered with a 500 and kept in `errors`.
        """
        self._queue.extend(steps)

    @property
    def pending(self) -> int:
        """Steps queued and not consumed yet."""
        return len(self._queue)

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        """The recorded OpenAI embeddings requests (``embedding_input_limit`` caps inputs)."""
        return [r for r in self.requests if embeddings_wire.is_embedding(r)]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded OpenAI chat and Anthropic messages requests."""
        return [r for r in self.requests if r.is_chat]

    @property
    def open_connections(self) -> int:
        """Client connections open right now (0 when the server is not running).

        A client that closed its connection pool leaves none behind.
        """
        return len(self.open_peers)

    @property
    def open_peers(self) -> set[tuple[str, int]]:
        """The (host, port) of each client connection open right now.

        Compare with `RecordedRequest.peer` to ask whether the connections a test used
        are closed, whatever connections other tests or clients still hold.
        """
        server = self._server if self._runner is not None else None
        if server is None:
            return set()
        peers: set[tuple[str, int]] = set()
        for handler in server.connections:
            peer = _transport_peer(handler.transport)
            if peer is not None:
                peers.add(peer)
        return peers

    def reset(self) -> None:
        """Forget the queue, responder, records, counters and latency settings."""
        self._queue.clear()
        self.batches.reset()
        self.anthropic_batches.reset()
        self.responder = None
        self.requests.clear()
        self.errors.clear()
        self.disconnects = 0
        self.latency = 0.0
        self.stream_chunk_delay = 0.0
        self.embedding_input_limit = embeddings_wire.EMBEDDING_INPUT_LIMIT

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("The fake provider server is already running.")
        self._stopping = False
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(1024)  # benchmarks open hundreds of connections at once
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._runner = runner
        self._server = server

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        runner, self._runner = self._runner, None
        if runner is not None:
            self._stopping = True
            await runner.cleanup()

    async def __aenter__(self) -> FakeProviderServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @contextlib.contextmanager
    def running_in_thread(self) -> Iterator[FakeProviderServer]:
        """Run the server on its own event loop in a daemon thread while the block runs."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as error:  # handed to the starting thread
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        thread = threading.Thread(target=serve, name="gluellm-fake-provider", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

    # -- request handling --------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        received = time.monotonic()
        raw = await request.read() if request.body_exists else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=request.headers,
            json=parsed,
            received_at=received,
            query=request.query,
            peer=_peer(request),
        )
        if self.record_requests:
            self.requests.append(record)
        route = (
            self._routes.get((request.method, request.path))
            or self.batches.route(request.method, request.path)
            or self.anthropic_batches.route(request.method, request.path)
        )
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            if route is not None:
                return await route(request, record)
            if request.method == "GET" and request.path.startswith(("/v1/models/", "/models/")):
                name = request.path.rsplit("/", 1)[-1]
                return json_response(openai_wire.model(name), {"x-request-id": request_id()})
            fault = StatusFault(404, message=f"Unknown endpoint: {request.method} {request.path}")
            return error_response(record, fault)
        except asyncio.CancelledError:
            if not self._stopping:
                self.disconnects += 1
            raise

    async def _next_step(self, record: RecordedRequest) -> Step:
        """The queued step, else the responder's, else None (the default answer)."""
        try:
            return self._queue.popleft()
        except IndexError:
            pass
        if self.responder is None:
            return None
        step = self.responder(record)
        if inspect.isawaitable(step):
            step = await step
        return step

    async def _chat(self, request: web.BaseRequest, record: RecordedRequest) -> web.StreamResponse:
        return await play(self, request, record)

    async def _count_tokens(
        self, request: web.BaseRequest, record: RecordedRequest
    ) -> web.StreamResponse:
        prompt, _ = estimate_usage(record, FakeReply(content=""))
        return json_response({"input_tokens": prompt}, {"request-id": request_id()})

    async def _embeddings(
        self, request: web.BaseRequest, record: RecordedRequest
    ) -> web.StreamResponse:
        return await embeddings_wire.answer(self, request, record)

    async def _models(
        self, request: web.BaseRequest, record: RecordedRequest
    ) -> web.StreamResponse:
        if "anthropic-version" in record.headers:
            return json_response(anthropic_wire.model_list(), {"request-id": request_id()})
        return json_response(openai_wire.model_list(), {"x-request-id": request_id()})


def _peer(request: web.BaseRequest) -> tuple[str, int] | None:
    return _transport_peer(request.transport)


def _transport_peer(transport: asyncio.BaseTransport | None) -> tuple[str, int] | None:
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return str(peer[0]), int(peer[1])
    return None
