"""docs/telemetry.md's examples (the spec's) run as written against a real MLflow server.

The ``asyncio.run(...)`` examples run as scripts in a fresh interpreter, configured
only through the environment as the page says; the others run in this process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import gluellm.config
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_mock.fake_server import FakeReply
from gluellm_plugins_telemetry import plugin as telemetry_plugin
from gluellm_plugins_telemetry.api import flush_tracing, shutdown_tracing

from .conftest import wait_for

DOC = Path(__file__).parents[2] / "docs" / "telemetry.md"


def example(heading: str) -> str:
    section = DOC.read_text().split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def run_script(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GLUELLM_"))},
        "GLUELLM_LOAD_PLUGINS": "anyllm,telemetry",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tracing_env(mlflow_server, experiment: str) -> dict[str, str]:
    """The page's Configuration section, pointed at the test's server."""
    return {
        "GLUELLM_ENABLE_TRACING": "true",
        "GLUELLM_MLFLOW_TRACKING_URI": mlflow_server.url,
        "GLUELLM_MLFLOW_EXPERIMENT_NAME": experiment,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"{mlflow_server.url}/v1/traces",
    }


def params_and_tags(run):
    data = run["data"]
    return (
        {p["key"]: p["value"] for p in data.get("params", [])},
        {t["key"]: t["value"] for t in data.get("tags", [])},
    )


def test_the_tool_example_is_one_trace_in_mlflow_with_its_metrics(
    fake_provider_env, mlflow_server, experiment, tmp_path
):
    fake_provider_env.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "San Francisco"}), usage=(20, 5)),
        FakeReply.text("It is sunny in San Francisco.", usage=(30, 7)),
    )
    proc = run_script(
        example("### Example with tool tracing"), tmp_path, **tracing_env(mlflow_server, experiment)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "It is sunny in San Francisco."
    assert proc.stderr == ""  # library logging stays off the console

    traces = wait_for(lambda: [t for t in mlflow_server.traces(experiment) if len(t["spans"]) >= 4])
    assert len(traces) == 1
    spans = traces[0]["spans"]
    assert len(spans) == 4
    [run] = [s for s in spans if "parent_span_id" not in s]
    chats = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    [tool] = [s for s in spans if s["name"] == "execute_tool get_weather"]
    assert run["name"] == "complete gpt-4o-mini"
    assert len(chats) == 2
    assert {s["parent_span_id"] for s in [*chats, tool]} == {run["span_id"]}
    assert {c["attrs"]["llm.provider"] for c in chats} == {"openai"}
    assert sorted(c["attrs"]["llm.tokens.total"] for c in chats) == [25, 37]
    assert {c["attrs"]["gen_ai.provider.name"] for c in chats} == {"openai"}
    assert {c["attrs"]["gen_ai.request.model"] for c in chats} == {"gpt-4o-mini"}
    assert sorted(c["attrs"]["gen_ai.usage.output_tokens"] for c in chats) == [5, 7]
    assert tool["attrs"]["tool.name"] == "get_weather"
    assert tool["attrs"]["tool.success"] is True
    assert tool["attrs"]["tool.arg_count"] == 1

    runs = wait_for(lambda: mlflow_server.runs(experiment))
    [auto] = runs
    assert auto["info"]["run_name"] == "gluellm_auto_metrics"
    run_id = auto["info"]["run_id"]
    latency = wait_for(lambda: mlflow_server.metric_history(run_id, "llm.latency_seconds"))
    assert sorted(m["step"] for m in latency) == [1, 2]
    assert all(m["value"] > 0 for m in latency)
    success = mlflow_server.metric_history(run_id, "llm.success")
    assert [m["value"] for m in success] == [1.0, 1.0]
    totals = mlflow_server.metric_history(run_id, "llm.tokens.total")
    assert sorted(m["value"] for m in totals) == [25.0, 37.0]
    assert mlflow_server.metric_history(run_id, "llm.error") == []
    params, tags = params_and_tags(auto)
    assert params["llm.provider"] == "openai"
    assert params["llm.model"] == "gpt-4o-mini"
    assert params["llm.finish_reason"] == "tool_calls"  # the first call's
    assert tags["llm.finish_reason"] == "stop"  # later values: tags
    assert params["llm.has_tool_calls"] == "true"


def test_with_tracing_disabled_nothing_is_exported(
    fake_provider_env, mlflow_server, experiment, tmp_path
):
    fake_provider_env.enqueue(FakeReply.text("Paris."))
    env = {**tracing_env(mlflow_server, experiment), "GLUELLM_ENABLE_TRACING": "false"}
    code = (
        example("## Usage")
        + '\nimport sys\nprint("otel" if "opentelemetry" in sys.modules else "-")\n'
    )
    proc = run_script(code, tmp_path, **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Paris.", "-"]  # answered; OpenTelemetry never imported
    assert len(fake_provider_env.chat_requests) == 1
    assert mlflow_server.experiment_id(experiment) is None  # no trace, no run, no experiment


def test_the_usage_example_traces_a_plain_completion(
    fake_provider_env, mlflow_server, experiment, tmp_path
):
    fake_provider_env.enqueue(FakeReply.text("Paris."))
    proc = run_script(example("## Usage"), tmp_path, **tracing_env(mlflow_server, experiment))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Paris."
    traces = wait_for(lambda: [t for t in mlflow_server.traces(experiment) if len(t["spans"]) >= 2])
    assert [sorted(s["name"] for s in t["spans"]) for t in traces] == [
        ["chat gpt-4o-mini", "complete gpt-4o-mini"]
    ]


async def test_custom_spans_nest_under_the_tool_that_opens_them(
    traced, fake_provider_env, mlflow_server, experiment
):
    namespace: dict = {}
    exec(example("### Custom span attributes"), namespace)

    async def some_llm_call():
        return "custom answer"

    namespace["some_llm_call"] = some_llm_call

    async def ask_custom(question: str) -> str:
        """Ask the custom model."""
        return await namespace["custom_llm_call"]()

    from gluellm.api import complete

    fake_provider_env.enqueue(
        FakeReply.tool_calls(("ask_custom", {"question": "hi"})), FakeReply.text("Done.")
    )
    await complete("Use it.", model="openai:gpt-4o-mini", tools=[ask_custom])
    assert flush_tracing()

    traces = wait_for(lambda: [t for t in mlflow_server.traces(experiment) if len(t["spans"]) >= 5])
    [trace] = traces
    by_name = {}
    for span in trace["spans"]:
        by_name.setdefault(span["name"], []).append(span)
    [tool] = by_name["execute_tool ask_custom"]
    [custom] = [s for s in by_name["chat gpt-4o-mini"] if "custom_attribute" in s["attrs"]]
    assert custom["parent_span_id"] == tool["span_id"]
    assert custom["attrs"]["custom_attribute"] == "custom_value"
    assert custom["attrs"]["custom_metric"] == 42
    assert custom["attrs"]["user_id"] == "user-123"
    assert custom["attrs"]["llm.messages_count"] == 1
    assert custom["attrs"]["llm.provider"] == "openai"


async def test_mlflow_run_context_groups_the_calls_into_one_run(
    fake_provider_env, mlflow_server, experiment, monkeypatch
):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(
        gluellm.config,
        "settings",
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            enable_tracing=True,
            mlflow_tracking_uri=mlflow_server.url,
            mlflow_experiment_name=experiment,
        ),
    )
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(telemetry_plugin, name="telemetry")
    runtime = Runtime(manager)  # reads the (patched) global settings, as apps do
    fake_provider_env.enqueue(
        FakeReply.text("One.", usage=(3, 1)), FakeReply.text("Two.", usage=(4, 1))
    )
    body = textwrap.indent(example("## MLflow metrics"), "    ")
    namespace: dict = {}
    exec(f"async def example():\n{body}\n    return result1, result2\n", namespace)
    try:
        with use_runtime(runtime):
            first, second = await namespace["example"]()
        assert (first.final_response, second.final_response) == ("One.", "Two.")
        assert flush_tracing()
    finally:
        await runtime.aclose()
        shutdown_tracing()

    [run] = wait_for(lambda: mlflow_server.runs(experiment))
    assert run["info"]["run_name"] == "my_workflow"
    assert run["info"]["status"] == "FINISHED"
    _, tags = params_and_tags(run)
    assert tags["experiment"] == "v1"
    totals = mlflow_server.metric_history(run["info"]["run_id"], "llm.tokens.total")
    assert sorted((m["step"], m["value"]) for m in totals) == [(1, 4.0), (2, 5.0)]
