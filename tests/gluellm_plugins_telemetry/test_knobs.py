"""Every documented knob of the telemetry plugin, observed on real OpenTelemetry SDK parts.

Spans are read back with the SDK's in-memory exporter and metrics with its in-memory
reader; where a knob is about where spans go, they go to the real MLflow server.
"""

from __future__ import annotations

import os

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gluellm.api import complete, stream_complete
from gluellm.config import Settings
from gluellm.errors import AuthenticationError
from gluellm.runtime import use_runtime
from gluellm_plugins_mock.fake_server import FakeReply, Fault
from gluellm_plugins_stamina import plugin as stamina_plugin
from gluellm_plugins_telemetry import exporters, state
from gluellm_plugins_telemetry.api import (
    configure_tracing,
    flush_tracing,
    is_tracing_enabled,
    set_span_attributes,
    shutdown_tracing,
    trace_llm_call,
)
from gluellm_plugins_telemetry.settings import TelemetrySettings

from .conftest import make_runtime, wait_for

MODEL = "openai:gpt-4o-mini"


@pytest.fixture
def clean_otel_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("OTEL_", "GLUELLM_")):
            monkeypatch.delenv(name)


@pytest.fixture
def in_memory(clean_otel_env, fake_provider_env):
    """Tracing on, spans and metrics kept in memory; yields (spans, metrics)."""
    spans, metrics = InMemorySpanExporter(), InMemoryMetricReader()
    configure_tracing(
        Settings(_env_file=None, enable_tracing=True),  # type: ignore[call-arg]
        span_exporter=spans,
        metric_readers=[metrics],
        force=True,
    )
    yield spans, metrics
    shutdown_tracing()


def finished(spans: InMemorySpanExporter, prefix: str):
    assert flush_tracing()
    return [s for s in spans.get_finished_spans() if s.name.startswith(prefix)]


async def run_with(runtime, *steps, **kwargs):
    with use_runtime(runtime):
        try:
            return await complete("Hi there", model=MODEL, **kwargs)
        finally:
            await runtime.aclose()


async def test_message_content_is_recorded_only_when_opted_in(
    in_memory, fake_provider_env, monkeypatch
):
    spans, _ = in_memory
    fake_provider_env.enqueue(FakeReply.text("Hello back."))
    await run_with(make_runtime(enable_tracing=True))
    [chat] = finished(spans, "chat")
    assert not [
        k for k in chat.attributes if k.startswith("gen_ai.input") or k.startswith("gen_ai.output")
    ]
    spans.clear()

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    runtime = make_runtime(enable_tracing=True)
    runtime._plugin_settings.clear()  # read TelemetrySettings from the environment again
    assert runtime.settings_for(TelemetrySettings).capture_message_content
    fake_provider_env.enqueue(FakeReply.text("Hello back."))
    await run_with(runtime)
    [chat] = finished(spans, "chat")
    assert "Hi there" in chat.attributes["gen_ai.input.messages"]
    assert "Hello back." in chat.attributes["gen_ai.output.messages"]


async def test_retries_are_events_on_the_call_span(in_memory, fake_provider_env):
    spans, _ = in_memory
    fake_provider_env.enqueue(Fault.status(429, retry_after=0), FakeReply.text("Finally."))
    runtime = make_runtime(stamina_plugin, enable_tracing=True, retry_min_wait=0, retry_max_wait=0)
    result = await run_with(runtime)
    assert result.final_response == "Finally."
    [chat] = finished(spans, "chat")
    [retry] = [e for e in chat.events if e.name == "retry"]
    assert retry.attributes["retry.attempt"] == 1
    assert retry.attributes["error.type"] == "RateLimitError"
    assert retry.attributes["retry.wait_s"] >= 0
    assert chat.attributes["llm.retries"] == 1
    [run] = finished(spans, "complete")
    assert run.attributes["gluellm.run.retries"] == 1


async def test_genai_metrics_count_tokens_and_time(in_memory, fake_provider_env):
    _, reader = in_memory
    fake_provider_env.enqueue(FakeReply.text("Four words right here.", usage=(11, 4)))
    await run_with(make_runtime(enable_tracing=True))
    fake_provider_env.enqueue(FakeReply.text("Streamed.", usage=(5, 2)))
    runtime = make_runtime(enable_tracing=True)
    with use_runtime(runtime):
        [_ async for _ in stream_complete("Stream it", model=MODEL)]
    await runtime.aclose()

    data = reader.get_metrics_data()
    found = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in found["gen_ai.client.token.usage"].data.data_points
    }
    assert tokens == {"input": 16, "output": 6}
    [duration] = found["gen_ai.client.operation.duration"].data.data_points
    assert duration.count == 2
    assert duration.attributes["gen_ai.operation.name"] == "chat"
    assert duration.attributes["gen_ai.provider.name"] == "openai"
    assert duration.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert found["gen_ai.client.operation.time_to_first_chunk"].data.data_points[0].count == 1


async def test_errors_are_redacted_and_typed_in_metrics(in_memory, fake_provider_env):
    spans, reader = in_memory
    fake_provider_env.enqueue(Fault.echo_key(401))
    runtime = make_runtime(enable_tracing=True)
    with use_runtime(runtime), pytest.raises(AuthenticationError):
        await complete("Hi", model=MODEL, api_key="sk-proj-FAKEKEY0123456789abcdef")
    await runtime.aclose()
    assert flush_tracing()
    exported = repr([(s.attributes, s.events, s.status) for s in spans.get_finished_spans()])
    assert "FAKEKEY0123456789" not in exported
    data = reader.get_metrics_data()
    [duration] = [
        p
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "gen_ai.client.operation.duration"
        for p in m.data.data_points
    ]
    assert duration.attributes["error.type"] == "AuthenticationError"


async def test_tracing_off_costs_a_flag_check_and_exports_nothing(
    clean_otel_env, fake_provider_env
):
    spans = InMemorySpanExporter()
    assert configure_tracing(Settings(_env_file=None), span_exporter=spans) is False  # type: ignore[call-arg]
    assert not is_tracing_enabled()
    runtime = make_runtime(enable_tracing=False)
    hook = runtime.plugin_manager.hook
    fake_provider = fake_provider_env
    fake_provider.enqueue(FakeReply.text("Hi."))
    await run_with(runtime)
    assert spans.get_finished_spans() == ()
    assert state.current() is None
    from gluellm.runs import RunRequest

    run = RunRequest(operation="complete", runtime=runtime, correlation_id="c")
    assert hook.wrap_run(run=run) == []  # every wrap hook stays out
    with trace_llm_call(MODEL) as span:  # a span that records nothing
        set_span_attributes(span, anything=1)
        assert not span.is_recording()


async def test_a_runtime_turns_tracing_on_by_itself_when_enabled(
    clean_otel_env, fake_provider_env, mlflow_server, experiment
):
    runtime = make_runtime(
        enable_tracing=True,
        mlflow_tracking_uri=mlflow_server.url,
        mlflow_experiment_name=experiment,
    )
    fake_provider_env.enqueue(FakeReply.text("Auto."))
    try:
        await run_with(runtime)  # startup hook configures tracing from the runtime's settings
        assert is_tracing_enabled()
        assert flush_tracing()
    finally:
        shutdown_tracing()
    # the first call's spans are recorded once startup configured tracing
    traces = wait_for(lambda: mlflow_server.traces(experiment))
    assert len(traces) == 1


async def test_mlflow_metrics_can_be_switched_off(
    clean_otel_env, fake_provider_env, mlflow_server, experiment, monkeypatch
):
    monkeypatch.setenv("GLUELLM_MLFLOW_METRICS", "false")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        enable_tracing=True,
        mlflow_tracking_uri=mlflow_server.url,
        mlflow_experiment_name=experiment,
    )
    configure_tracing(settings, force=True)
    try:
        assert state.current().mlflow is None
        fake_provider_env.enqueue(FakeReply.text("No metrics."))
        await run_with(
            make_runtime(
                **settings.model_dump(
                    include={"enable_tracing", "mlflow_tracking_uri", "mlflow_experiment_name"}
                )
            )
        )
        assert flush_tracing()
    finally:
        shutdown_tracing()
    assert wait_for(lambda: mlflow_server.traces(experiment))  # spans still go out
    assert mlflow_server.runs(experiment) == []


async def test_the_experiment_header_from_the_environment_wins(
    clean_otel_env, fake_provider_env, mlflow_server, experiment, monkeypatch
):
    chosen = mlflow_server.create_experiment(experiment + "-chosen")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", f"x-mlflow-experiment-id={chosen}")
    settings = {
        "enable_tracing": True,
        "mlflow_tracking_uri": mlflow_server.url,
        "mlflow_experiment_name": experiment,
    }
    configure_tracing(
        Settings(_env_file=None, mlflow_metrics=False, **settings), mlflow_metrics=False, force=True
    )  # type: ignore[call-arg]
    try:
        fake_provider_env.enqueue(FakeReply.text("Filed."))
        await run_with(make_runtime(**settings))
        assert flush_tracing()
    finally:
        shutdown_tracing()
    assert wait_for(lambda: mlflow_server.traces(experiment + "-chosen"))
    assert mlflow_server.experiment_id(experiment) is None


def test_endpoints_follow_the_standard_variables(clean_otel_env, monkeypatch):
    assert exporters.traces_endpoint(None) is None
    assert exporters.traces_endpoint("http://mlflow:5000/") == "http://mlflow:5000/v1/traces"
    assert exporters.traces_endpoint("file:///tmp/mlruns") is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert exporters.traces_endpoint("http://mlflow:5000") == "http://collector:4318/v1/traces"
    assert exporters.metrics_endpoint() == "http://collector:4318/v1/metrics"
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://mlflow:5000/v1/traces"
    )  # the spec's form
    assert exporters.traces_endpoint(None) == "http://mlflow:5000/v1/traces"
    assert exporters.metrics_endpoint() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/v1/traces")
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://prom:9090/api/v1/otlp/v1/metrics"
    )
    assert exporters.traces_endpoint(None) == "http://tempo:4318/v1/traces"
    assert exporters.metrics_endpoint() == "http://prom:9090/api/v1/otlp/v1/metrics"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    assert exporters.traces_endpoint("http://mlflow:5000") is None
    assert exporters.metrics_endpoint() is None


def test_service_name_defaults_to_gluellm_and_follows_otel_service_name(
    clean_otel_env, monkeypatch
):
    on = Settings(_env_file=None, enable_tracing=True)  # type: ignore[call-arg]
    configure_tracing(on, span_exporter=InMemorySpanExporter(), force=True)
    assert state.current().tracer_provider.resource.attributes["service.name"] == "gluellm"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "my-app")
    configure_tracing(on, span_exporter=InMemorySpanExporter(), force=True)
    assert state.current().tracer_provider.resource.attributes["service.name"] == "my-app"
    shutdown_tracing()


def test_set_span_attributes_makes_otel_values(in_memory):
    spans, _ = in_memory
    with trace_llm_call(
        "anthropic:claude-x", messages=[{"role": "user", "content": "x"}] * 3
    ) as span:
        set_span_attributes(
            span, text="a", n=2, ok=True, ratio=0.5, tags=["a", "b"], nested={"k": 1}, skipped=None
        )
    [recorded] = finished(spans, "chat")
    attrs = recorded.attributes
    assert (attrs["text"], attrs["n"], attrs["ok"], attrs["ratio"]) == ("a", 2, True, 0.5)
    assert attrs["tags"] == ("a", "b")
    assert attrs["nested"] == '{"k": 1}'
    assert "skipped" not in attrs
    assert attrs["llm.provider"] == "anthropic"
    assert attrs["llm.messages_count"] == 3


def test_trace_llm_call_marks_a_failing_block(in_memory):
    spans, _ = in_memory
    with pytest.raises(RuntimeError), trace_llm_call(MODEL):
        raise RuntimeError("model down")
    [recorded] = finished(spans, "chat")
    assert recorded.status.status_code.name == "ERROR"
    assert [e.name for e in recorded.events] == ["exception"]


def test_the_experiment_header_goes_only_to_the_mlflow_server():
    assert exporters.same_server("http://localhost:5000/v1/traces", "http://127.0.0.1:5000")
    assert exporters.same_server("https://mlflow.example/v1/traces", "https://mlflow.example:443")
    assert not exporters.same_server("http://collector:4318/v1/traces", "http://mlflow:5000")


async def test_an_embedding_run_has_an_embeddings_span(in_memory, fake_provider_env):
    from gluellm.api import embed

    spans, _ = in_memory
    runtime = make_runtime(enable_tracing=True)
    with use_runtime(runtime):
        result = await embed(["one", "two"], model="openai:text-embedding-3-small")
    await runtime.aclose()
    assert result.count == 2
    [run] = finished(spans, "embed ")
    [call] = finished(spans, "embeddings")
    assert call.parent.span_id == run.context.span_id
    assert run.attributes["gen_ai.operation.name"] == "embeddings"
    assert call.attributes["gen_ai.operation.name"] == "embeddings"
    assert call.attributes["gen_ai.request.model"] == "text-embedding-3-small"
    assert call.attributes["gen_ai.embeddings.input_count"] == 2
    assert call.attributes["gen_ai.usage.input_tokens"] > 0


async def test_a_stream_closed_early_ends_its_run_span_as_closed(in_memory, fake_provider_env):
    spans, _ = in_memory
    fake_provider_env.enqueue(FakeReply.text("one two three four five six seven eight"))
    runtime = make_runtime(enable_tracing=True)
    with use_runtime(runtime):
        stream = stream_complete("Count.", model=MODEL)
        async for _chunk in stream:
            break
        assert finished(spans, "stream_complete") == []  # still open while the stream is
        await stream.aclose()
    await runtime.aclose()
    [run] = finished(spans, "stream_complete")
    assert run.attributes["gluellm.run.status"] == "closed"
    assert run.attributes["gluellm.time_to_first_token_s"] > 0
