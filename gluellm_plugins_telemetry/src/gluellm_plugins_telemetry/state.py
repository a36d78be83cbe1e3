"""The process's telemetry: tracer and meter providers, exporters, the MLflow logger.

One `Telemetry` serves every runtime of the process, as OpenTelemetry providers do. It
is built by `configure_tracing` (the spec's call) or, when ``GLUELLM_ENABLE_TRACING``
is on, by the plugin's ``startup`` hook on a runtime's first call.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader
    from opentelemetry.sdk.trace.export import SpanExporter

    from gluellm.config import Settings
    from gluellm.runtime import Runtime
    from gluellm_plugins_telemetry.mlflow_rest import MlflowMetricsLogger

TOKEN_BUCKETS = [4.0**i for i in range(14)]
"""``gen_ai.client.token.usage`` buckets, as the GenAI conventions advise (1 ... 4**13)."""

DURATION_BUCKETS = [0.01 * 2**i for i in range(14)]
"""``gen_ai.client.operation.duration`` buckets, as the GenAI conventions advise (s)."""


def _package_version() -> str:
    try:
        return version("gluellm-plugins-telemetry")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


class Telemetry:
    """Providers, instruments and exporters for GlueLLM's spans and metrics.

    Args:
        settings: Core settings (MLflow tracking URI and experiment name).
        span_exporter: Send spans here instead of the OTLP exporter the environment
            names (tests, custom backends); may be combined with none.
        metric_readers: Extra OpenTelemetry metric readers (an in-memory reader in
            tests, a Prometheus reader in apps), next to the OTLP one if configured.
        mlflow_metrics: Log the spec's per-call metrics to MLflow runs.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        span_exporter: SpanExporter | None = None,
        metric_readers: Sequence[MetricReader] = (),
        mlflow_metrics: bool = True,
    ) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from gluellm_plugins_telemetry import exporters
        from gluellm_plugins_telemetry.mlflow_rest import MlflowMetricsLogger, MlflowRestClient

        self.settings = settings
        uri = settings.mlflow_tracking_uri
        client = MlflowRestClient(uri) if uri and uri.startswith(("http://", "https://")) else None
        self.mlflow: MlflowMetricsLogger | None = None
        if client is not None and mlflow_metrics:
            self.mlflow = MlflowMetricsLogger(client, settings.mlflow_experiment_name)

        attributes: dict[str, Any] = {}
        if not os.environ.get("OTEL_SERVICE_NAME"):
            attributes["service.name"] = "gluellm"
        resource = Resource.create(attributes)
        self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.traces_endpoint: str | None = None
        if span_exporter is None:
            self.traces_endpoint = exporters.traces_endpoint(uri)
            if self.traces_endpoint is not None:
                to_mlflow = uri is not None and exporters.same_server(self.traces_endpoint, uri)
                span_exporter = exporters.OtlpSpanExporter(
                    self.traces_endpoint,
                    client if to_mlflow else None,
                    settings.mlflow_experiment_name,
                )
        if span_exporter is not None:
            self.tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
        self.tracer = self.tracer_provider.get_tracer("gluellm", _package_version())

        readers = list(metric_readers)
        self.metrics_endpoint = exporters.metrics_endpoint()
        if self.metrics_endpoint is not None:
            readers.append(
                PeriodicExportingMetricReader(exporters.metric_exporter(self.metrics_endpoint))
            )
        self.meter_provider = MeterProvider(
            metric_readers=readers, resource=resource, shutdown_on_exit=False
        )
        meter = self.meter_provider.get_meter("gluellm", _package_version())
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.operation_duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed answer.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        # Spans of model calls in flight, by id of the call object (see spans.py).
        self.open_calls: dict[int, Any] = {}

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Export what is buffered: spans, metrics, MLflow records. False on timeout."""
        millis = int(timeout_s * 1000)
        done = self.tracer_provider.force_flush(millis)
        done = self.meter_provider.force_flush(millis) and done
        if self.mlflow is not None:
            done = self.mlflow.flush(timeout_s) and done
        return done

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Flush, then stop the exporters and the MLflow worker."""
        self.flush(timeout_s)
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown(timeout_millis=timeout_s * 1000)
        if self.mlflow is not None:
            self.mlflow.close(timeout_s)


_current: Telemetry | None = None
_lock = threading.Lock()
_atexit_registered = False


def current() -> Telemetry | None:
    """The configured telemetry, or None while tracing is not set up."""
    return _current


def configure(
    settings: Settings,
    *,
    span_exporter: SpanExporter | None = None,
    metric_readers: Sequence[MetricReader] = (),
    mlflow_metrics: bool = True,
    force: bool = False,
) -> Telemetry | None:
    """Build the process's telemetry unless tracing is off or it is built already.

    Args:
        settings: Core settings; nothing happens when ``enable_tracing`` is off.
        span_exporter: See `Telemetry`.
        metric_readers: See `Telemetry`.
        mlflow_metrics: See `Telemetry`.
        force: Replace telemetry configured before (flushing and shutting it down).
    """
    global _current, _atexit_registered
    if not settings.enable_tracing:
        return None
    with _lock:
        if _current is not None and not force:
            return _current
        previous, _current = _current, None
        if previous is not None:
            previous.shutdown()
        _current = Telemetry(
            settings,
            span_exporter=span_exporter,
            metric_readers=metric_readers,
            mlflow_metrics=mlflow_metrics,
        )
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True
        return _current


def shutdown(timeout_s: float = 10.0) -> None:
    """Flush and stop the process's telemetry; tracing is off until configured again."""
    global _current
    with _lock:
        telemetry, _current = _current, None
    if telemetry is not None:
        telemetry.shutdown(timeout_s)


def flush(timeout_s: float = 10.0) -> bool:
    """Export everything buffered now; True when done (or nothing is configured)."""
    telemetry = _current
    return telemetry.flush(timeout_s) if telemetry is not None else True


async def configure_in_thread(runtime: Runtime) -> None:
    """Configure from ``runtime``'s settings in a worker thread (imports take a while)."""
    if _current is not None:
        return
    from gluellm_plugins_telemetry.settings import TelemetrySettings

    own = runtime.settings_for(TelemetrySettings)
    await asyncio.to_thread(configure, runtime.settings, mlflow_metrics=own.mlflow_metrics)


async def flush_in_thread() -> None:
    """`flush` in a worker thread, so a runtime's shutdown never blocks the loop."""
    if _current is not None:
        await asyncio.to_thread(flush)
