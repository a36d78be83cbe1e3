"""Where spans and metrics go: the standard OTLP/HTTP exporters, pointed by settings.

Endpoints, in order of precedence:

- spans: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; else ``OTEL_EXPORTER_OTLP_ENDPOINT``
  (a base URL, ``/v1/traces`` appended, or, as the spec writes it, a URL already ending
  in ``/v1/traces``); else ``GLUELLM_MLFLOW_TRACKING_URI`` + ``/v1/traces``.
- metrics: ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``; else ``OTEL_EXPORTER_OTLP_ENDPOINT``
  as a base URL (not when it names a traces path). MLflow does not take OTLP metrics;
  it gets the spec's run metrics through its REST API instead (`mlflow_rest`).

``OTEL_TRACES_EXPORTER=none`` / ``OTEL_METRICS_EXPORTER=none`` switch an exporter off.
Headers, timeouts and compression come from the standard ``OTEL_EXPORTER_OTLP_*``
variables; for MLflow, the ``x-mlflow-experiment-id`` header is added, naming the
experiment ``GLUELLM_MLFLOW_EXPERIMENT_NAME`` (created if missing) on first export.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loguru import logger
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricExporter

    from gluellm_plugins_telemetry.mlflow_rest import MlflowRestClient

EXPERIMENT_HEADER = "x-mlflow-experiment-id"
TRACES_PATH = "/v1/traces"
METRICS_PATH = "/v1/metrics"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def traces_endpoint(mlflow_tracking_uri: str | None) -> str | None:
    """The OTLP/HTTP URL spans are sent to, or None for no span export."""
    if (_env("OTEL_TRACES_EXPORTER") or "").lower() == "none":
        return None
    explicit = _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if explicit:
        return explicit
    base = _env("OTEL_EXPORTER_OTLP_ENDPOINT")
    if base:
        base = base.rstrip("/")
        return base if base.endswith(TRACES_PATH) else base + TRACES_PATH
    if mlflow_tracking_uri and mlflow_tracking_uri.startswith(("http://", "https://")):
        return mlflow_tracking_uri.rstrip("/") + TRACES_PATH
    return None


def metrics_endpoint() -> str | None:
    """The OTLP/HTTP URL GenAI metrics are sent to, or None for no metric export."""
    if (_env("OTEL_METRICS_EXPORTER") or "").lower() == "none":
        return None
    explicit = _env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    if explicit:
        return explicit
    base = _env("OTEL_EXPORTER_OTLP_ENDPOINT")
    if base and not base.rstrip("/").endswith(TRACES_PATH):
        return base.rstrip("/") + METRICS_PATH
    return None


def same_server(url: str, other: str) -> bool:
    """Whether two URLs name the same host and port (``localhost`` = ``127.0.0.1``)."""
    from urllib.parse import urlsplit

    def where(text: str) -> tuple[str, int | None]:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        host = "127.0.0.1" if host in ("localhost", "::1") else host
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return host, port

    return where(url) == where(other)


def _env_headers(signal: str) -> dict[str, str]:
    from opentelemetry.util.re import parse_env_headers

    raw = _env(f"OTEL_EXPORTER_OTLP_{signal}_HEADERS") or _env("OTEL_EXPORTER_OTLP_HEADERS")
    return dict(parse_env_headers(raw, liberal=True)) if raw else {}


class OtlpSpanExporter(SpanExporter):
    """The OTLP/HTTP span exporter, built on first export (in the export thread).

    Building it late lets the MLflow experiment be looked up (one HTTP request) off
    the event loop, and only when there is something to send.

    Args:
        endpoint: The OTLP/HTTP traces URL.
        mlflow: A client for the MLflow server, when the spans go to MLflow.
        experiment_name: The experiment to file the traces under.
    """

    def __init__(
        self, endpoint: str, mlflow: MlflowRestClient | None, experiment_name: str
    ) -> None:
        self.endpoint = endpoint
        self._mlflow = mlflow
        self._experiment_name = experiment_name
        self._inner: SpanExporter | None = None
        self._lock = threading.Lock()

    def _exporter(self) -> SpanExporter:
        with self._lock:
            if self._inner is None:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                headers = _env_headers("TRACES")
                named = {key.lower() for key in headers}
                if self._mlflow is not None and EXPERIMENT_HEADER not in named:
                    headers[EXPERIMENT_HEADER] = self._mlflow.experiment_id(self._experiment_name)
                self._inner = OTLPSpanExporter(endpoint=self.endpoint, headers=headers)
            return self._inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send ``spans``; a failure is logged and reported, never raised."""
        try:
            exporter = self._exporter()
        except Exception as error:
            logger.warning("cannot export spans to {}: {}", self.endpoint, error)
            return SpanExportResult.FAILURE
        return exporter.export(spans)

    def shutdown(self) -> None:
        """Shut the underlying exporter down."""
        if self._inner is not None:
            self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here; the span processor does the buffering."""
        return True


def metric_exporter(endpoint: str) -> MetricExporter:
    """The OTLP/HTTP metric exporter for ``endpoint`` (headers from the environment)."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=endpoint, headers=_env_headers("METRICS") or None)
