"""The public tracing API, re-exported as ``gluellm.telemetry`` (the spec's names).

- `configure_tracing`: set tracing up from ``GLUELLM_ENABLE_TRACING``,
  ``GLUELLM_MLFLOW_*`` and ``OTEL_*``; a no-op while tracing is off.
- `trace_llm_call` / `set_span_attributes`: spans of your own, nested under the GlueLLM
  run (or tool) that is running.
- `mlflow_run_context`: group the MLflow metrics of the calls in a block into one run.
- `flush_tracing` / `shutdown_tracing`: export what is buffered; stop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gluellm_plugins_telemetry import state
from gluellm_plugins_telemetry.mlflow_rest import AUTO_RUN_NAME, RunHandle, run_context

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

    from gluellm.config import Settings

__all__ = [
    "AUTO_RUN_NAME",
    "RunHandle",
    "configure_tracing",
    "flush_tracing",
    "is_tracing_enabled",
    "mlflow_run_context",
    "set_span_attributes",
    "shutdown_tracing",
    "trace_llm_call",
]


def configure_tracing(
    settings: Settings | None = None,
    *,
    span_exporter: SpanExporter | None = None,
    metric_readers: Sequence[MetricReader] = (),
    mlflow_metrics: bool | None = None,
    force: bool = False,
) -> bool:
    """Set tracing up for every GlueLLM call of this process.

    Reads ``GLUELLM_ENABLE_TRACING`` (nothing happens while it is off),
    ``GLUELLM_MLFLOW_TRACKING_URI``, ``GLUELLM_MLFLOW_EXPERIMENT_NAME`` and the standard
    ``OTEL_EXPORTER_OTLP_*`` variables. Calling it again does nothing unless ``force``.

    Args:
        settings: Settings to use instead of the current ``gluellm.config.settings``.
        span_exporter: Send spans here instead of the OTLP exporter.
        metric_readers: Extra OpenTelemetry metric readers for the GenAI metrics.
        mlflow_metrics: Log per-call metrics to MLflow; default ``GLUELLM_MLFLOW_METRICS``.
        force: Replace the telemetry configured before.

    Returns:
        Whether tracing is on.
    """
    if settings is None:
        from gluellm.config import get_settings

        settings = get_settings()
    if mlflow_metrics is None:
        from gluellm_plugins_telemetry.settings import TelemetrySettings

        mlflow_metrics = TelemetrySettings().mlflow_metrics
    telemetry = state.configure(
        settings,
        span_exporter=span_exporter,
        metric_readers=metric_readers,
        mlflow_metrics=mlflow_metrics,
        force=force,
    )
    return telemetry is not None


def is_tracing_enabled() -> bool:
    """Whether tracing is configured in this process."""
    return state.current() is not None


def flush_tracing(timeout_s: float = 10.0) -> bool:
    """Export buffered spans, metrics and MLflow records now; False on timeout."""
    return state.flush(timeout_s)


def shutdown_tracing(timeout_s: float = 10.0) -> None:
    """Flush, then stop exporting; `configure_tracing` may set tracing up again."""
    state.shutdown(timeout_s)


def set_span_attributes(span: Span, **attributes: Any) -> None:
    """Set attributes on ``span``; None values are skipped, others made OTel values.

    Strings, numbers, booleans and lists of them are kept as they are; anything else
    is recorded as JSON text.
    """
    from gluellm_plugins_telemetry.attributes import attribute_value

    for key, value in attributes.items():
        converted = attribute_value(value)
        if converted is not None:
            span.set_attribute(key, converted)


@contextlib.contextmanager
def trace_llm_call(
    model: str, messages: Sequence[Mapping[str, Any]] | None = None, **attributes: Any
) -> Iterator[Span]:
    """A span for a model call you make yourself, nested under the current span.

    Records ``llm.provider``, ``llm.model``, ``llm.messages_count`` and their GenAI
    twins, plus ``attributes``. An exception leaving the block is recorded and marks
    the span as failed. While tracing is off, the span records nothing.

    Args:
        model: The model string (``provider:model``).
        messages: The messages sent, counted (their content is never recorded here).
        **attributes: More attributes, as for `set_span_attributes`.

    Yields:
        The span.
    """
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    from gluellm_plugins_telemetry.attributes import model_attributes

    telemetry = state.current()
    if telemetry is None:
        yield trace.INVALID_SPAN
        return
    found = model_attributes(model)
    span = telemetry.tracer.start_span(
        f"chat {found.get('llm.model', model)}",
        kind=SpanKind.CLIENT,
        attributes={"gen_ai.operation.name": "chat", **found},
    )
    if messages is not None:
        span.set_attribute("llm.messages_count", len(messages))
    set_span_attributes(span, **attributes)
    with trace.use_span(
        span, end_on_exit=True, record_exception=True, set_status_on_exception=True
    ):
        yield span


@contextlib.contextmanager
def mlflow_run_context(name: str, tags: Mapping[str, str] | None = None) -> Iterator[RunHandle]:
    """Log the MLflow metrics of every call in the block to one new run called ``name``.

    Outside any such block, calls log to the automatic run ``gluellm_auto_metrics``.
    The run is created, logged to and ended from a background thread: the block never
    waits for MLflow. It ends ``FINISHED``, or ``FAILED`` when an exception leaves it.
    Works in sync and async code; tasks started inside the block log to it too.

    Args:
        name: The run's name.
        tags: Tags to set on the run.

    Yields:
        The run's handle (``run_id`` is filled in once MLflow created it).
    """

    def current_logger() -> Any:
        telemetry = state.current()
        return telemetry.mlflow if telemetry is not None else None

    with run_context(name, tags, current_logger) as handle:
        yield handle
