"""The call pipeline: every model call goes through here, in one fixed order.

``wrap_call`` middleware (first result outermost) -> retrier -> rate limiter -> transport.

Rate limiting sits inside retry so each attempt takes a permit; middleware sits outside
retry so one span or record covers the logical call. With no plugin providing a layer,
the call goes straight to the transport.

For streamed calls the pipeline returns once the stream is open; ``on_call_end`` fires
when the stream ends (with the assembled turn, usage included), fails, or is closed
early, and ``call.timeout`` also bounds the wait for each chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import attrs

from gluellm.call import CallHandler, CallMiddleware, ModelCall, ModelResponse, StreamDelta
from gluellm.errors import APITimeoutError
from gluellm.plugins import call_each
from gluellm.runtime import Runtime, get_runtime, use_runtime
from gluellm.stream_assembly import TurnAssembler


def _layer(middleware: CallMiddleware, inner: CallHandler) -> CallHandler:
    async def handler(call: ModelCall) -> ModelResponse:
        return await middleware(call, inner)

    return handler


def _timeout_error(call: ModelCall, what: str) -> APITimeoutError:
    return APITimeoutError(
        f"{call.model} did not {what} within {call.timeout:g} s "
        f"(correlation ID {call.correlation_id}). Raise timeout= or "
        "GLUELLM_DEFAULT_REQUEST_TIMEOUT if the model needs longer."
    )


def _with_timeout(send: CallHandler) -> CallHandler:
    """Bound each attempt, and each chunk of a stream, by ``call.timeout``."""

    async def handler(call: ModelCall) -> ModelResponse:
        if call.timeout is None:
            return await send(call)
        try:
            async with asyncio.timeout(call.timeout):
                response = await send(call)
        except TimeoutError as error:
            raise _timeout_error(call, "answer") from error
        if response.stream is not None:
            guarded = _GuardedStream(response.stream, call, timeout=call.timeout)
            response = attrs.evolve(response, stream=guarded)
        return response

    return handler


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
        on_end: Callable[[ModelResponse | None, BaseException | None], None] | None = None,
    ) -> None:
        self._inner = inner
        self._call = call
        self._timeout = timeout
        self._on_end = on_end
        self._turn = TurnAssembler() if on_end is not None else None
        self._finished = False

    def __aiter__(self) -> _GuardedStream:
        return self

    async def __anext__(self) -> StreamDelta:
        if self._finished:
            raise StopAsyncIteration
        try:
            if self._timeout is None:
                delta = await anext(self._inner)
            else:
                async with asyncio.timeout(self._timeout):
                    delta = await anext(self._inner)
        except StopAsyncIteration:
            self._finish(self._turn.response(self._call.model_name) if self._turn else None, None)
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
        if not self._finished and self._turn is not None:
            partial = self._turn.response(self._call.model_name)
            self._finish(attrs.evolve(partial, finish_reason="incomplete"), None)
        self._finished = True
        await _close(self._inner)

    def _finish(self, response: ModelResponse | None, error: BaseException | None) -> None:
        if self._finished:
            return
        self._finished = True
        if self._on_end is not None:
            self._on_end(response, error)


async def _close(stream: AsyncIterator[StreamDelta]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def build_handler(call: ModelCall, runtime: Runtime) -> CallHandler:
    """Compose the layers that plugins offer for ``call`` around its transport."""
    hook = runtime.plugin_manager.hook
    handler = _with_timeout(runtime.transport_for(call.provider).complete)
    # Hooks nobody implements are skipped: a pluggy call costs microseconds even when empty.
    if hook.get_rate_limiter.get_hookimpls():
        limiter = hook.get_rate_limiter(call=call)
        if limiter is not None:
            handler = _layer(limiter, handler)
    if hook.get_retrier.get_hookimpls():
        retrier = hook.get_retrier(call=call)
        if retrier is not None:
            handler = _layer(retrier, handler)
    if hook.wrap_call.get_hookimpls():
        for middleware in reversed(hook.wrap_call(call=call)):
            if middleware is not None:
                handler = _layer(middleware, handler)
    return handler


async def run_call(call: ModelCall, runtime: Runtime) -> ModelResponse:
    """Send one model call through the pipeline and notify ``on_call_end`` observers."""
    if not runtime.started:
        await runtime.startup()
    await runtime.watch_loop()
    if get_runtime() is not runtime:
        # A client given runtime= directly: plugins that look the runtime up (settings,
        # observers) must see this one, not the default.
        with use_runtime(runtime):
            return await run_call(call, runtime)
    handler = build_handler(call, runtime)
    observed = bool(runtime.plugin_manager.hook.on_call_end.get_hookimpls())
    started = time.perf_counter()
    try:
        response = await handler(call)
    except BaseException as error:
        if observed:
            _notify_end(runtime, call, None, error, started)
        raise
    if not observed:
        return response
    if response.stream is not None:

        def on_end(turn: ModelResponse | None, error: BaseException | None) -> None:
            _notify_end(runtime, call, turn, error, started)

        return attrs.evolve(response, stream=_GuardedStream(response.stream, call, on_end=on_end))
    _notify_end(runtime, call, response, None, started)
    return response


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
    )
