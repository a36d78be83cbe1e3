"""The call pipeline: every model call goes through here, in one fixed order.

``wrap_call`` middleware (first result outermost) -> retrier -> rate limiter -> transport.

Rate limiting sits inside retry so each attempt takes a permit; middleware sits outside
retry so one span or record covers the logical call. With no plugin providing a layer,
the call goes straight to the transport.
"""

from __future__ import annotations

import asyncio
import time

from gluellm.call import CallHandler, CallMiddleware, ModelCall, ModelResponse
from gluellm.errors import APITimeoutError
from gluellm.plugins import call_each
from gluellm.runtime import Runtime, get_runtime, use_runtime


def _layer(middleware: CallMiddleware, inner: CallHandler) -> CallHandler:
    async def handler(call: ModelCall) -> ModelResponse:
        return await middleware(call, inner)

    return handler


def _with_timeout(send: CallHandler) -> CallHandler:
    """Bound each attempt by ``call.timeout``, whatever the transport does."""

    async def handler(call: ModelCall) -> ModelResponse:
        if call.timeout is None:
            return await send(call)
        try:
            async with asyncio.timeout(call.timeout):
                return await send(call)
        except TimeoutError as error:
            raise APITimeoutError(
                f"{call.model} did not answer within {call.timeout:g} s "
                f"(correlation ID {call.correlation_id}). Raise timeout= or "
                "GLUELLM_DEFAULT_REQUEST_TIMEOUT if the model needs longer."
            ) from error

    return handler


def build_handler(call: ModelCall, runtime: Runtime) -> CallHandler:
    """Compose the layers that plugins offer for ``call`` around its transport."""
    hook = runtime.plugin_manager.hook
    handler = _with_timeout(runtime.transport_for(call.provider).complete)
    limiter = hook.get_rate_limiter(call=call)
    if limiter is not None:
        handler = _layer(limiter, handler)
    retrier = hook.get_retrier(call=call)
    if retrier is not None:
        handler = _layer(retrier, handler)
    for middleware in reversed(hook.wrap_call(call=call)):
        if middleware is not None:
            handler = _layer(middleware, handler)
    return handler


async def run_call(call: ModelCall, runtime: Runtime) -> ModelResponse:
    """Send one model call through the pipeline and notify ``on_call_end`` observers."""
    if not runtime.started:
        await runtime.startup()
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
            call_each(
                runtime.plugin_manager,
                "on_call_end",
                call=call,
                response=None,
                error=error,
                duration_s=time.perf_counter() - started,
            )
        raise
    if observed:
        call_each(
            runtime.plugin_manager,
            "on_call_end",
            call=call,
            response=response,
            error=None,
            duration_s=time.perf_counter() - started,
        )
    return response
