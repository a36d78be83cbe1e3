"""Any OTLP/HTTP backend: spans and GenAI metrics reach a plain OTLP receiver on loopback.

The receiver is a small HTTP server that decodes what arrives with OpenTelemetry's own
protobuf classes, as a collector would; ``OTEL_EXPORTER_OTLP_ENDPOINT`` points at it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from gluellm.api import complete
from gluellm.config import Settings
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_mock.fake_server import FakeReply
from gluellm_plugins_telemetry.api import configure_tracing, flush_tracing, shutdown_tracing

from .conftest import make_runtime


class Receiver:
    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path == "/v1/traces":
                got.traces.append(ExportTraceServiceRequest.FromString(body))
            elif self.path == "/v1/metrics":
                got.metrics.append(ExportMetricsServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", got
    finally:
        server.shutdown()
        server.server_close()


def _tracing_to(url: str, monkeypatch: pytest.MonkeyPatch, **otel_env: str) -> Runtime:
    """Tracing on, exported to ``url`` by OTel's own environment variables only."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    for name, value in otel_env.items():
        monkeypatch.setenv(name, value)
    settings = {"enable_tracing": True}
    configure_tracing(Settings(_env_file=None, **settings), force=True)  # type: ignore[call-arg]
    return make_runtime(**settings)


async def test_spans_and_genai_metrics_reach_an_otlp_receiver(
    receiver, fake_provider_env, monkeypatch
):
    url, got = receiver
    runtime = _tracing_to(
        url,
        monkeypatch,
        OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer collector-token",
        OTEL_SERVICE_NAME="weather-app",
    )
    fake_provider_env.enqueue(FakeReply.text("Hi.", usage=(9, 2)))
    try:
        with use_runtime(runtime):
            await complete("Hello", model="openai:gpt-4o-mini")
        await runtime.aclose()
        assert flush_tracing()
    finally:
        shutdown_tracing()

    spans = [
        (span, resource.resource)
        for request in got.traces
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert sorted(s.name for s, _ in spans) == ["chat gpt-4o-mini", "complete gpt-4o-mini"]
    service = {a.key: a.value.string_value for a in spans[0][1].attributes}["service.name"]
    assert service == "weather-app"
    metrics = {
        metric.name: metric
        for request in got.metrics
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= set(metrics)
    usage = {
        {a.key: a.value.string_value for a in p.attributes}["gen_ai.token.type"]: p.sum
        for p in metrics["gen_ai.client.token.usage"].histogram.data_points
    }
    assert usage == {"input": 9, "output": 2}
    assert all(h.get("authorization") == "Bearer collector-token" for h in got.headers)
    assert all("x-mlflow-experiment-id" not in h for h in got.headers)


async def test_a_streamed_call_dropped_unread_still_ends_its_span(
    receiver, fake_provider_env, monkeypatch
):
    import gc

    from gluellm.call import ModelCall
    from gluellm.pipeline import run_call
    from gluellm_plugins_telemetry import state

    url, got = receiver
    runtime = _tracing_to(url, monkeypatch)
    fake_provider_env.enqueue(FakeReply.text("never read"))
    call = ModelCall(
        model="openai:gpt-4o-mini",
        provider="openai",
        model_name="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    try:
        with use_runtime(runtime):
            response = await run_call(call, runtime)
            del response  # neither read nor closed
            gc.collect()
            telemetry = state.current()
            assert telemetry is not None
            assert telemetry.open_calls == {}  # nothing kept for a span that never ends
        await runtime.aclose()
        assert flush_tracing()
    finally:
        shutdown_tracing()
    spans = [
        span
        for request in got.traces
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert [span.name for span in spans] == ["chat gpt-4o-mini"]
