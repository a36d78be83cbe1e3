"""The call pipeline: every model call goes through here, in one fixed order.

``wrap_call`` middleware (first result outermost) -> transport chosen and prepared ->
retrier -> rate limiter -> per-attempt timeout -> transport.

The transport is chosen after middleware, from the call middleware passes on, so a
middleware may reroute a call; the retrier and rate limiter are chosen for that call
too. The transport's ``prepare`` (SDK import, client setup) runs before the retry and
rate-limit layers: a cold import neither counts against the per-attempt timeout nor
holds a permit. Rate limiting sits inside retry so each attempt takes a permit;
middleware sits outside retry so one span or record covers the logical call.

Each finished turn gets its ``estimated_cost_usd`` (see `gluellm.costs`), and its
usage and cost are added to the stats of the run it belongs to (and the runs
enclosing that one), which is what budgets are checked against.

For streamed calls the pipeline returns once the stream is open; ``on_call_end`` fires
when the stream ends (with the assembled turn, usage included), fails, or is closed
early, and ``call.timeout`` also bounds the wait for each chunk.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs

from gluellm.call import (
    CallHandler,
    CallMiddleware,
    ModelCall,
    ModelResponse,
    StreamDelta,
    Transport,
)
from gluellm.costs import estimate_cost
from gluellm.deadlines import Deadline
from gluellm.errors import APITimeoutError, ConfigurationError, StreamCutError
from gluellm.hook_calls import call_each, first_middleware
from gluellm.middleware import collect_middleware
from gluellm.runtime import Runtime, get_runtime, use_runtime
from gluellm.stream_assembly import TurnAssembler


def _timeout_error(call: ModelCall, what: str) -> APITimeoutError:
    return APITimeoutError(
        f"{call.model} did not {what} within {call.timeout:g} s "
        f"(correlation ID {call.correlation_id}). Raise timeout= or "
        "GLUELLM_DEFAULT_REQUEST_TIMEOUT if the model needs longer."
    )


def _with_timeout(transport: Transport) -> CallHandler:
    """Send to ``transport``, bounding each attempt and each streamed chunk by ``call.timeout``."""

    async def send(call: ModelCall) -> ModelResponse:
        if call.operation == "embedding":
            embed = getattr(transport, "embed", None)
            if embed is None:
                raise ConfigurationError(
                    f"The transport serving {call.provider!r} ({type(transport).__name__}) "
                    "cannot make embeddings. Use a provider whose transport can, such as "
                    "'openai:text-embedding-3-small' with gluellm-plugins-anyllm."
                )
            response: ModelResponse = await embed(call)
            return response
        return await transport.complete(call)

    complete = transport.complete

    async def handler(call: ModelCall) -> ModelResponse:
        if call.timeout is None:
            return await send(call)
        try:
            with Deadline(call.timeout):
                # Chat calls straight to the transport: one coroutine less per resume.
                if call.operation == "chat":
                    response = await complete(call)
                else:
                    response = await send(call)
        except TimeoutError as error:
            raise _timeout_error(call, "answer") from error
        if response.stream is not None:
            guarded = _GuardedStream(response.stream, call, timeout=call.timeout)
            response = attrs.evolve(response, stream=guarded)
        return response

    return handler


def _cut_error(call: ModelCall, chunks: int) -> StreamCutError:
    return StreamCutError(
        f"The stream from {call.model} ended without a finish reason after {chunks} chunks: "
        f"it was cut short (correlation ID {call.correlation_id})."
    )


class _GuardedStream:
    """A transport's stream with an idle timeout per chunk and/or an end-of-turn callback.

    A class rather than an async generator: closing it must close the transport's
    stream even when no chunk was read yet (a generator's body would never run).
    """

    def __init__(
        self,
        inner: AsyncIterator[StreamDelta],
        call: ModelCall,
        *,
        timeout: float | None = None,
        on_end: Callable[[ModelResponse | None, BaseException | None], ModelResponse | None]
        | None = None,
    ) -> None:
        self._inner = inner
        self._call = call
        self._timeout = timeout
        self._on_end = on_end
        self._turn = TurnAssembler() if on_end is not None else None
        self._finished = False
        self.final: ModelResponse | None = None
        """The finished turn as ``on_end`` returned it (cost filled in), once it ended."""

    def __aiter__(self) -> _GuardedStream:
        return self

    async def __anext__(self) -> StreamDelta:
        if self._finished:
            raise StopAsyncIteration
        try:
            if self._timeout is None:
                delta = await anext(self._inner)
            else:
                with Deadline(self._timeout):
                    delta = await anext(self._inner)
        except StopAsyncIteration:
            if self._turn is not None and not self._turn.finished:
                # Observers hear of a cut turn as the failure the reader will get.
                self._finish(None, _cut_error(self._call, self._turn.chunks))
            else:
                self._finish(
                    self._turn.response(self._call.model_name) if self._turn else None, None
                )
            raise
        except TimeoutError as error:
            timeout_error = _timeout_error(self._call, "send the next chunk")
            self._finish(None, timeout_error)
            await _close(self._inner)
            raise timeout_error from error
        except BaseException as error:
            self._finish(None, error)
            raise
        if self._turn is not None:
            self._turn.add(delta)
        return delta

    async def aclose(self) -> None:
        """Close the transport's stream; observers learn the turn ended incomplete."""
        self._finish_incomplete()
        self._finished = True
        await _close(self._inner)

    def _finish(self, response: ModelResponse | None, error: BaseException | None) -> None:
        if self._finished:
            return
        self._finished = True
        if self._on_end is not None:
            self.final = self._on_end(response, error)

    def __del__(self) -> None:
        # Dropped unread and unclosed (a caller of run_call that lost interest):
        # observers still hear the turn ended incomplete, so a tracer's span ends and
        # its bookkeeping goes, as after aclose(). The transport's own stream is
        # finalized by the event loop.
        with contextlib.suppress(Exception):  # never raise from a finalizer
            self._finish_incomplete()

    def _finish_incomplete(self) -> None:
        """Tell observers the turn ended before its end, with what had arrived."""
        if not self._finished and self._turn is not None:
            partial = self._turn.response(self._call.model_name)
            self._finish(attrs.evolve(partial, finish_reason="incomplete"), None)


async def _close(stream: AsyncIterator[StreamDelta]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def _bind(middleware: CallMiddleware, inner: CallHandler) -> CallHandler:
    """``inner`` wrapped in ``middleware``, like `gluellm.middleware.layer`, frame-free.

    No coroutine of its own: every await in the transport resumes through each coroutine
    frame of the chain, so a frame less per layer saves CPU on every resume of every call.
    """

    def handler(call: ModelCall) -> Awaitable[ModelResponse]:
        return middleware(call, inner)

    return handler


# Composed layers are kept per runtime and reused while their parts are the same
# objects: the transport's attempt handler, and the limiter and retrier the plugins
# chose (which reuse one layer per limit and policy). Closures built per call would
# cost CPU, and stay alive as garbage-collector work for as long as the call waits on
# the network. A plugin that returns a new layer every call gets a new chain each
# time; the cache is emptied when it grows past this many entries.
_MAX_CACHED_LAYERS = 64
_DISPATCH = "dispatch"


def _layers(runtime: Runtime) -> dict[object, Any]:
    """The runtime's cache of composed layers, emptied when its plugins changed."""
    layers = runtime.layers
    generation = runtime.plugin_manager.generation
    if runtime.layers_generation != generation or len(layers) > _MAX_CACHED_LAYERS:
        layers.clear()
        runtime.layers_generation = generation
    return layers


def _attempt(layers: dict[object, Any], transport: Transport) -> CallHandler:
    # By identity (transports need not be hashable); the handler keeps the transport
    # alive, so its id is not reused while the entry exists.
    key = ("attempt", id(transport))
    handler: CallHandler | None = layers.get(key)
    if handler is None:
        handler = layers[key] = _with_timeout(transport)
    return handler


def _chain(
    layers: dict[object, Any],
    attempt: CallHandler,
    limiter: CallMiddleware | None,
    retrier: CallMiddleware | None,
) -> CallHandler:
    """``attempt`` inside the rate limiter inside the retrier (either may be None)."""
    key = (attempt, limiter, retrier)
    handler: CallHandler | None = layers.get(key)
    if handler is None:
        handler = attempt
        if limiter is not None:
            handler = _bind(limiter, handler)
        if retrier is not None:
            handler = _bind(retrier, handler)
        layers[key] = handler
    return handler


def _dispatcher(runtime: Runtime) -> CallHandler:
    """What sits under ``wrap_call``: transport, call deadline, retrier, limiter, attempt."""
    layers = _layers(runtime)
    found: CallHandler | None = layers.get(_DISPATCH)
    if found is not None:
        return found

    async def dispatch(call: ModelCall) -> ModelResponse:
        # Chosen here, after middleware: a middleware may have rerouted the call.
        transport = runtime.transport_for(call.provider)
        prepare = getattr(transport, "prepare", None)
        if prepare is not None:
            await prepare(call)
        layers = _layers(runtime)
        manager = runtime.plugin_manager
        # Hooks nobody implements are skipped: a pluggy call costs microseconds even when
        # empty (`Runtime.implements` is cached per plugin generation).
        # Named (like every middleware hook): a plugin failing in the hook, or in its
        # layer's own code, is named in the caller's PluginError.
        limiter = retrier = None
        if runtime.implements("get_rate_limiter"):
            limiter = first_middleware(manager, "get_rate_limiter", call=call, runtime=runtime)
        if runtime.implements("get_retrier"):
            retrier = first_middleware(manager, "get_retrier", call=call, runtime=runtime)
        handler = _chain(layers, _attempt(layers, transport), limiter, retrier)
        deadline = call.deadline
        if deadline is None or (
            # One attempt only, already bounded at least as tightly: one timer is enough.
            retrier is None and call.timeout is not None and call.timeout <= deadline
        ):
            return await handler(call)
        try:
            with Deadline(deadline):
                return await handler(call)
        except TimeoutError as error:
            raise APITimeoutError(
                f"{call.model} did not answer within the call's deadline of "
                f"{deadline:g} s, retries included (correlation ID "
                f"{call.correlation_id}). Raise GLUELLM_DEFAULT_CALL_DEADLINE if the "
                "model needs longer."
            ) from error

    layers[_DISPATCH] = dispatch
    return dispatch


def build_handler(call: ModelCall, runtime: Runtime) -> CallHandler:
    """Compose the layers that plugins offer for ``call`` around its transport."""
    handler = _dispatcher(runtime)
    if runtime.implements("wrap_call"):
        for middleware in reversed(
            collect_middleware(runtime, "wrap_call", call=call, runtime=runtime)
        ):
            handler = _bind(middleware, handler)
    return handler


async def run_call(call: ModelCall, runtime: Runtime) -> ModelResponse:
    """Send one model call through the pipeline; count it in its run; tell observers."""
    if not runtime.ready_here():  # a plain check first: awaiting costs on every call
        if not runtime.started:
            await runtime.startup()
        await runtime.watch_loop()
    if get_runtime() is not runtime:
        # A client given runtime= directly: code that looks the runtime up (a tool
        # that makes calls of its own) must see this one, not the default.
        with use_runtime(runtime):
            return await run_call(call, runtime)
    handler = build_handler(call, runtime)
    observed = runtime.implements("on_call_end")
    started = time.perf_counter()
    try:
        response = await handler(call)
    except BaseException as error:
        if observed:
            _notify_end(runtime, call, None, error, started)
        raise
    if response.stream is not None:
        if not observed and call.run is None:
            return response

        def on_end(turn: ModelResponse | None, error: BaseException | None) -> ModelResponse | None:
            if turn is not None:
                turn = _account(runtime, call, turn)
            if observed:
                _notify_end(runtime, call, turn, error, started)
            return turn

        return attrs.evolve(response, stream=_GuardedStream(response.stream, call, on_end=on_end))
    response = _account(runtime, call, response)
    if observed:
        _notify_end(runtime, call, response, None, started)
    return response


def _account(runtime: Runtime, call: ModelCall, response: ModelResponse) -> ModelResponse:
    """Fill in the turn's cost; add its usage and cost to its run and the enclosing ones."""
    cost = response.estimated_cost_usd
    if cost is None and response.usage is not None:
        cost = estimate_cost(runtime, call.model, call.provider, response.usage, call.operation)
        if cost is not None:
            response = response.with_cost(cost)
    run = call.run
    while run is not None:
        run.stats.add_turn(response.usage, cost)
        run = run.parent
    return response


def notify_retry(
    runtime: Runtime, call: ModelCall, attempt: int, error: BaseException, wait_s: float
) -> None:
    """Count a retry in the call's runs and tell ``on_retry`` observers (for retry plugins).

    Args:
        runtime: The runtime making the call.
        call: The call being retried.
        attempt: The number of the attempt that failed (1 for the first).
        error: What the failed attempt raised.
        wait_s: Seconds until the next attempt.
    """
    run = call.run
    while run is not None:
        run.stats.retries += 1
        run = run.parent
    if runtime.implements("on_retry"):
        call_each(
            runtime.plugin_manager,
            "on_retry",
            call=call,
            attempt=attempt,
            error=error,
            wait_s=wait_s,
            runtime=runtime,
        )


def _notify_end(
    runtime: Runtime,
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    started: float,
) -> None:
    call_each(
        runtime.plugin_manager,
        "on_call_end",
        call=call,
        response=response,
        error=error,
        duration_s=time.perf_counter() - started,
        runtime=runtime,
    )
