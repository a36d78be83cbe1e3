"""Spans: one trace per run; model calls, retries and tools inside it.

- ``wrap_run``: the run's span, stored in ``run.extensions[RUN_SPAN]``. Its parent is
  the enclosing run's span (workflows, batches, agents called as tools), else the
  caller's current OpenTelemetry span. A streamed run's span ends when its stream does
  (`StreamedRun.add_done_callback`), with the time to the first token.
- ``wrap_call``: a CLIENT span per model call, child of ``call.run``'s span (found
  through the run, not through context variables, so a stream read later still nests
  right); ended by ``on_call_end`` with usage, finish reason and cost.
- ``on_retry``: a ``retry`` event on the call's span, with the error and the wait.
- ``wrap_tool``: a span per tool execution, child of ``invocation.run``'s span.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import attrs
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from gluellm.runs import StreamedRun
from gluellm_plugins_telemetry import attributes as A
from gluellm_plugins_telemetry import state
from gluellm_plugins_telemetry.settings import TelemetrySettings

if TYPE_CHECKING:
    from gluellm.call import CallHandler, CallMiddleware, ModelCall, ModelResponse, StreamDelta
    from gluellm.runs import RunHandler, RunMiddleware, RunRequest, RunStatus
    from gluellm.runtime import Runtime
    from gluellm.tools import ToolExecution, ToolHandler, ToolInvocation, ToolMiddleware
    from gluellm_plugins_telemetry.state import Telemetry

RUN_SPAN = "gluellm_plugins_telemetry.span"
"""Key of the run's span in ``RunRequest.extensions``."""
RUN_STARTED = "gluellm_plugins_telemetry.started"
"""Key of the run's start (``time.perf_counter()``) in ``RunRequest.extensions``."""
RUN_TTFT = "gluellm_plugins_telemetry.first_token"
"""Set in ``RunRequest.extensions`` once the run's first token was recorded."""

RUN_OPERATIONS = {
    "complete": "invoke_agent",
    "structured_complete": "invoke_agent",
    "stream_complete": "invoke_agent",
    "stream_structured_complete": "invoke_agent",
    "embed": "embeddings",
    "workflow": "invoke_workflow",
}
"""GlueLLM run operations -> ``gen_ai.operation.name``."""


def _capture(runtime: Runtime) -> bool:
    return runtime.settings_for(TelemetrySettings).capture_message_content


def _parent_context(run: RunRequest | None) -> otel_context.Context | None:
    """The context whose span is ``run``'s span, or None (the caller's current span)."""
    span = run.extensions.get(RUN_SPAN) if run is not None else None
    return trace.set_span_in_context(span) if span is not None else None


def _end_with_error(span: Span, error: BaseException) -> None:
    span.set_attributes(A.error_attributes(error))
    span.record_exception(error, attributes={"exception.message": A.content(str(error))})
    span.set_status(Status(StatusCode.ERROR, A.content(f"{type(error).__name__}: {error}")))


# --- runs ------------------------------------------------------------------------


def run_middleware(run: RunRequest) -> RunMiddleware | None:
    """The ``wrap_run`` middleware, or None while tracing is not configured."""
    telemetry = state.current()
    if telemetry is None:
        return None
    capture = _capture(run.runtime)

    async def traced(run: RunRequest, call_next: RunHandler) -> Any:
        span = _start_run_span(telemetry, run, capture)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            output = await call_next(run)
        except BaseException as error:
            status: RunStatus = (
                "cancelled" if isinstance(error, asyncio.CancelledError) else "error"
            )
            _end_run_span(span, run, status, None, error, capture)
            raise
        finally:
            otel_context.detach(token)
        if isinstance(output, StreamedRun):
            output.add_done_callback(
                lambda end: _end_run_span(span, run, end.status, end.output, end.error, capture)
            )
        else:
            _end_run_span(span, run, "ok", output, None, capture)
        return output

    return traced


def _start_run_span(telemetry: Telemetry, run: RunRequest, capture: bool) -> Span:
    operation = RUN_OPERATIONS.get(run.operation, run.operation)
    model = A.model_attributes(run.model)
    label = run.name or model.get("llm.model") or "gluellm"
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gluellm.run.operation": run.operation,
        "gluellm.run.id": run.run_id,
        A.CORRELATION_ID: run.correlation_id,
        **model,
        **A.request_attributes(run.options),
    }
    if run.name:
        attributes["gluellm.run.name"] = run.name
    if run.parent is not None:
        attributes["gluellm.run.parent_id"] = run.parent.run_id
    if run.operation != "embed" and run.model:
        attributes["llm.messages_count"] = len(run.messages)
        attributes["llm.tools_available"] = len(run.tools)
    if run.tools:
        attributes["gluellm.run.tools"] = list(run.tools)
    if capture and run.messages:
        attributes["gen_ai.input.messages"] = A.content(list(run.messages))
    if capture and run.system_prompt:
        attributes["gen_ai.system_instructions"] = A.content(run.system_prompt)
    span = telemetry.tracer.start_span(
        f"{run.operation} {label}",
        context=_parent_context(run.parent),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
    )
    run.extensions[RUN_SPAN] = span
    run.extensions[RUN_STARTED] = time.perf_counter()
    return span


def _end_run_span(
    span: Span,
    run: RunRequest,
    status: RunStatus,
    output: Any,
    error: BaseException | None,
    capture: bool,
) -> None:
    stats = run.stats
    span.set_attribute("gluellm.run.status", status)
    span.set_attribute("gluellm.run.model_calls", stats.model_calls)
    span.set_attribute("gluellm.run.retries", stats.retries)
    if stats.usage is not None:
        usage = stats.usage
        span.set_attributes(
            A.usage_attributes(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        )
    if stats.estimated_cost_usd is not None:
        span.set_attribute(A.COST, stats.estimated_cost_usd)
    tool_calls = getattr(output, "tool_calls_made", None)
    if isinstance(tool_calls, int):
        span.set_attribute("gluellm.run.tool_calls", tool_calls)
    finish = getattr(output, "finish_reason", None)
    if isinstance(finish, str):
        span.set_attribute("gen_ai.response.finish_reasons", [finish])
    if capture and isinstance(getattr(output, "final_response", None), str):
        span.set_attribute("gen_ai.output.messages", A.content(output.final_response))
    if error is not None:
        _end_with_error(span, error)
    span.end()


# --- model calls -----------------------------------------------------------------


@attrs.define
class CallSpan:
    """A model call's span while the call is in flight."""

    span: Span
    started: float
    capture: bool
    retries: int = 0
    first_chunk_s: float | None = None


_current_call: ContextVar[CallSpan | None] = ContextVar("gluellm_telemetry_call", default=None)


def call_middleware(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """The ``wrap_call`` middleware, or None while tracing is not configured."""
    telemetry = state.current()
    if telemetry is None:
        return None
    key = id(call)  # on_call_end receives this very call object
    capture = _capture(runtime)

    async def traced(call: ModelCall, call_next: CallHandler) -> ModelResponse:
        operation = "embeddings" if call.operation == "embedding" else "chat"
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            A.CORRELATION_ID: call.correlation_id,
            **A.model_attributes(call.model),
            **A.request_attributes(call.options),
        }
        if call.operation == "chat":
            attributes["llm.messages_count"] = len(call.messages)
            attributes["llm.tools_available"] = len(call.tools)
            attributes["gen_ai.request.stream"] = call.stream
            if capture:
                attributes["gen_ai.input.messages"] = A.content(list(call.messages))
        else:
            attributes["gen_ai.embeddings.input_count"] = len(call.input)
        span = telemetry.tracer.start_span(
            f"{operation} {call.model_name}",
            context=_parent_context(call.run),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        current = CallSpan(span=span, started=time.perf_counter(), capture=capture)
        telemetry.open_calls[key] = current
        token = _current_call.set(current)
        try:
            response = await call_next(call)
        finally:
            _current_call.reset(token)
        if response.stream is not None:
            timed = _FirstChunkTimer(response.stream, current, call.run, telemetry)
            response = attrs.evolve(response, stream=timed)
        return response

    return traced


class _FirstChunkTimer:
    """Passes a stream's chunks on; notes when the first one with content arrived."""

    def __init__(
        self,
        inner: AsyncIterator[StreamDelta],
        call_span: CallSpan,
        run: RunRequest | None,
        telemetry: Telemetry,
    ) -> None:
        self._inner = inner
        self._call_span = call_span
        self._run = run
        self._telemetry = telemetry

    def __aiter__(self) -> _FirstChunkTimer:
        return self

    async def __anext__(self) -> StreamDelta:
        delta = await anext(self._inner)
        if self._call_span.first_chunk_s is None and (delta.content or delta.tool_calls):
            self._first_chunk()
        return delta

    def _first_chunk(self) -> None:
        now = time.perf_counter()
        call_span = self._call_span
        call_span.first_chunk_s = now - call_span.started
        call_span.span.set_attribute("gen_ai.response.time_to_first_chunk", call_span.first_chunk_s)
        run = self._run
        if run is None:
            return
        span = run.extensions.get(RUN_SPAN)
        started = run.extensions.get(RUN_STARTED)
        if span is not None and started is not None and RUN_TTFT not in run.extensions:
            run.extensions[RUN_TTFT] = True
            ttft = now - started
            span.set_attribute("gluellm.time_to_first_token_s", ttft)
            span.add_event("first_token", {"gluellm.time_to_first_token_s": ttft})

    async def aclose(self) -> None:
        """Close the provider's stream."""
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()


def record_retry(call: ModelCall, attempt: int, error: BaseException, wait_s: float) -> None:
    """Add a ``retry`` event (attempt, error, wait) to the call's span."""
    current = _current_call.get()
    if current is None:
        telemetry = state.current()
        current = telemetry.open_calls.get(id(call)) if telemetry is not None else None
    if current is None:
        return
    current.retries += 1
    current.span.add_event(
        "retry",
        {
            "retry.attempt": attempt,
            "retry.wait_s": wait_s,
            **A.error_attributes(error),
        },
    )


def end_call(
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    duration_s: float,
    runtime: Runtime,
) -> None:
    """End the call's span; record the GenAI metrics and the MLflow run metrics."""
    telemetry = state.current()
    if telemetry is None:
        return
    current = telemetry.open_calls.pop(id(call), None)
    operation = "embeddings" if call.operation == "embedding" else "chat"
    metric_attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": call.provider,
        "gen_ai.request.model": call.model_name,
    }
    if response is not None and response.model:
        metric_attributes["gen_ai.response.model"] = response.model
    if error is not None:
        metric_attributes["error.type"] = type(error).__name__
    telemetry.operation_duration.record(duration_s, metric_attributes)
    usage = response.usage if response is not None else None
    if usage is not None:
        telemetry.token_usage.record(
            usage.prompt_tokens, {**metric_attributes, "gen_ai.token.type": "input"}
        )
        telemetry.token_usage.record(
            usage.completion_tokens, {**metric_attributes, "gen_ai.token.type": "output"}
        )
    if current is not None:
        if current.first_chunk_s is not None:
            telemetry.time_to_first_chunk.record(current.first_chunk_s, metric_attributes)
        _finish_call_span(current, response, error)
    if telemetry.mlflow is not None:
        _log_mlflow(telemetry, call, response, error, duration_s)


def _finish_call_span(
    current: CallSpan, response: ModelResponse | None, error: BaseException | None
) -> None:
    span = current.span
    span.set_attribute("llm.retries", current.retries)
    if response is not None:
        if response.model:
            span.set_attribute("gen_ai.response.model", response.model)
        if response.usage is not None:
            usage = response.usage
            span.set_attributes(
                A.usage_attributes(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            )
        if response.finish_reason:
            span.set_attribute("llm.response.finish_reason", response.finish_reason)
            span.set_attribute("gen_ai.response.finish_reasons", [response.finish_reason])
        span.set_attribute("llm.response.has_tool_calls", bool(response.tool_calls))
        if response.estimated_cost_usd is not None:
            span.set_attribute(A.COST, response.estimated_cost_usd)
        if current.capture:
            output: dict[str, Any] = {"role": "assistant", "content": response.content}
            if response.tool_calls:
                output["tool_calls"] = [t.as_message_part() for t in response.tool_calls]
            span.set_attribute("gen_ai.output.messages", A.content([output]))
    if error is not None:
        _end_with_error(span, error)
    span.end()


def _log_mlflow(
    telemetry: Telemetry,
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    duration_s: float,
) -> None:
    assert telemetry.mlflow is not None
    metrics: dict[str, float] = {"llm.latency_seconds": duration_s}
    params = {"llm.provider": call.provider, "llm.model": call.model_name}
    if error is None:
        metrics["llm.success"] = 1.0
    else:
        metrics["llm.error"] = 1.0
        params["llm.error_type"] = type(error).__name__
    if response is not None:
        if response.usage is not None:
            metrics["llm.tokens.prompt"] = response.usage.prompt_tokens
            metrics["llm.tokens.completion"] = response.usage.completion_tokens
            metrics["llm.tokens.total"] = response.usage.total_tokens
        if response.estimated_cost_usd is not None:
            metrics["llm.cost_usd"] = response.estimated_cost_usd
        if response.finish_reason:
            params["llm.finish_reason"] = response.finish_reason
        params["llm.has_tool_calls"] = json.dumps(bool(response.tool_calls))
    telemetry.mlflow.log_call(metrics, params, None)


# --- tools -----------------------------------------------------------------------


def tool_middleware(invocation: ToolInvocation, runtime: Runtime) -> ToolMiddleware | None:
    """The ``wrap_tool`` middleware, or None while tracing is not configured."""
    telemetry = state.current()
    if telemetry is None:
        return None
    capture = _capture(runtime)

    async def traced(invocation: ToolInvocation, call_next: ToolHandler) -> ToolExecution:
        request = invocation.request
        try:
            parsed = json.loads(request.arguments or "{}")
        except ValueError:
            parsed = None
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": request.name,
            "gen_ai.tool.call.id": request.id,
            "gen_ai.tool.type": "function",
            "tool.name": request.name,
            "tool.arg_count": len(parsed) if isinstance(parsed, dict) else 0,
        }
        if invocation.correlation_id:
            attributes[A.CORRELATION_ID] = invocation.correlation_id
        if invocation.tool is not None and invocation.tool.description:
            attributes["gen_ai.tool.description"] = invocation.tool.description
        if capture:
            attributes["gen_ai.tool.call.arguments"] = A.content(request.arguments)
        span = telemetry.tracer.start_span(
            f"execute_tool {request.name}",
            context=_parent_context(invocation.run),
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            execution = await call_next(invocation)
        except BaseException as error:
            span.set_attribute("tool.success", False)
            span.set_attribute("tool.error", A.content(str(error)))
            _end_with_error(span, error)
            span.end()
            raise
        finally:
            otel_context.detach(token)
        span.set_attribute("tool.success", not execution.error)
        span.set_attribute("tool.duration_s", execution.duration_s)
        if capture:
            span.set_attribute("gen_ai.tool.call.result", A.content(execution.result))
        if execution.error:
            message = A.content(execution.result)
            span.set_attribute("tool.error", message)
            span.set_attribute("error.type", "ToolError")
            span.set_status(Status(StatusCode.ERROR, message))
        span.end()
        return execution

    return traced
