"""Spans reach a real MLflow server over OTLP/HTTP: one trace per run, nested right."""

from __future__ import annotations

import pytest

from gluellm.api import complete, stream_complete
from gluellm.errors import InvalidRequestError
from gluellm.runs import run_group
from gluellm_plugins_mock.fake_server import FakeReply, Fault
from gluellm_plugins_telemetry.api import flush_tracing

from .conftest import wait_for


def get_weather(location: str) -> str:
    """Get weather for a location."""
    return f"Weather in {location}: Sunny, 72°F"


def by_name(trace, prefix):
    return [s for s in trace["spans"] if s["name"].startswith(prefix)]


def one_trace(mlflow_server, experiment, spans=1):
    traces = wait_for(
        lambda: [t for t in mlflow_server.traces(experiment) if len(t["spans"]) >= spans]
    )
    assert len(traces) == 1, traces
    return traces[0]


async def test_a_run_with_a_tool_is_one_trace_with_call_and_tool_spans(
    traced, fake_provider_env, mlflow_server, experiment
):
    fake_provider_env.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "San Francisco"}), usage=(20, 5)),
        FakeReply.text("Sunny in San Francisco.", usage=(30, 6)),
    )
    result = await complete(
        "What's the weather in San Francisco?",
        model="openai:gpt-4o-mini",
        tools=[get_weather],
        temperature=0.2,
    )
    assert result.tool_calls_made == 1
    assert flush_tracing()

    trace = one_trace(mlflow_server, experiment, spans=4)
    [run] = by_name(trace, "complete")
    chats = by_name(trace, "chat")
    [tool] = by_name(trace, "execute_tool")
    assert len(chats) == 2
    assert "parent_span_id" not in run  # the run is the trace's root
    assert {s["parent_span_id"] for s in [*chats, tool]} == {run["span_id"]}

    assert run["attrs"]["gen_ai.operation.name"] == "invoke_agent"
    assert run["attrs"]["gluellm.correlation_id"] == result.correlation_id
    assert run["attrs"]["llm.tokens.total"] == 61
    assert run["attrs"]["gen_ai.usage.input_tokens"] == 50
    assert run["attrs"]["gluellm.run.tool_calls"] == 1

    first, second = sorted(chats, key=lambda s: int(s["start_time_unix_nano"]))
    for chat in chats:
        attrs = chat["attrs"]
        assert attrs["llm.provider"] == attrs["gen_ai.provider.name"] == "openai"
        assert attrs["llm.model"] == attrs["gen_ai.request.model"] == "gpt-4o-mini"
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.request.temperature"] == 0.2
        assert attrs["llm.tools_available"] == 1
        assert attrs["gen_ai.response.model"]
        assert attrs["gluellm.correlation_id"] == result.correlation_id
        assert "gen_ai.input.messages" not in attrs  # content only when opted in
    assert first["attrs"]["llm.messages_count"] == 2
    assert first["attrs"]["llm.response.finish_reason"] == "tool_calls"
    assert first["attrs"]["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert first["attrs"]["llm.response.has_tool_calls"] is True
    assert first["attrs"]["llm.tokens.prompt"] == first["attrs"]["gen_ai.usage.input_tokens"] == 20
    assert first["attrs"]["llm.tokens.completion"] == 5
    assert first["attrs"]["gen_ai.usage.output_tokens"] == 5
    assert first["attrs"]["llm.tokens.total"] == 25
    assert second["attrs"]["llm.response.finish_reason"] == "stop"
    assert second["attrs"]["llm.response.has_tool_calls"] is False
    assert second["attrs"]["llm.messages_count"] == 4

    assert tool["attrs"]["tool.name"] == tool["attrs"]["gen_ai.tool.name"] == "get_weather"
    assert tool["attrs"]["tool.arg_count"] == 1
    assert tool["attrs"]["tool.success"] is True
    assert tool["attrs"]["gen_ai.operation.name"] == "execute_tool"
    assert "tool.error" not in tool["attrs"]
    assert tool["start_time_unix_nano"] > first["end_time_unix_nano"]


async def test_a_failing_run_has_error_status_and_an_exception_event(
    traced, fake_provider_env, mlflow_server, experiment
):
    fake_provider_env.enqueue(Fault.status(400))
    with pytest.raises(InvalidRequestError):
        await complete("Hi", model="openai:gpt-4o-mini")
    assert flush_tracing()

    trace = one_trace(mlflow_server, experiment, spans=2)
    assert trace["trace_info"]["state"] == "ERROR"
    [run] = by_name(trace, "complete")
    [chat] = by_name(trace, "chat")
    for span in (run, chat):
        assert span["status"]["code"] == "STATUS_CODE_ERROR"
        assert span["attrs"]["error.type"] == "InvalidRequestError"
        assert [e["name"] for e in span["event_list"]] == ["exception"]
        assert span["event_list"][0]["attrs"]["exception.type"].endswith("InvalidRequestError")


async def test_a_failing_tool_marks_its_span_failed_but_not_the_run(
    traced, fake_provider_env, mlflow_server, experiment
):
    def lookup(city: str) -> str:
        """Look a city up."""
        raise ValueError(f"no data for {city}")

    fake_provider_env.enqueue(
        FakeReply.tool_calls(("lookup", {"city": "Oslo"})), FakeReply.text("Sorry.")
    )
    await complete("Oslo?", model="openai:gpt-4o-mini", tools=[lookup])
    assert flush_tracing()

    trace = one_trace(mlflow_server, experiment, spans=4)
    [tool] = by_name(trace, "execute_tool")
    [run] = by_name(trace, "complete")
    assert tool["attrs"]["tool.success"] is False
    assert "no data for Oslo" in tool["attrs"]["tool.error"]
    assert tool["status"]["code"] == "STATUS_CODE_ERROR"
    assert run["status"].get("code", "STATUS_CODE_UNSET") == "STATUS_CODE_UNSET"


async def test_a_stream_span_ends_with_the_stream_and_records_time_to_first_token(
    traced, fake_provider_env, mlflow_server, experiment
):
    fake_provider_env.enqueue(FakeReply.text("One two three four.", usage=(7, 4)))
    stream = stream_complete("Count.", model="openai:gpt-4o-mini")
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].done
    assert flush_tracing()

    trace = one_trace(mlflow_server, experiment, spans=2)
    [run] = by_name(trace, "stream_complete")
    [chat] = by_name(trace, "chat")
    assert chat["parent_span_id"] == run["span_id"]
    ttft = run["attrs"]["gluellm.time_to_first_token_s"]
    duration = (int(run["end_time_unix_nano"]) - int(run["start_time_unix_nano"])) / 1e9
    assert 0 < ttft <= duration
    assert "first_token" in [e["name"] for e in run["event_list"]]
    assert chat["attrs"]["gen_ai.response.time_to_first_chunk"] > 0
    assert chat["attrs"]["llm.tokens.total"] == 11
    assert chat["attrs"]["gen_ai.request.stream"] is True
    assert run["attrs"]["gluellm.run.status"] == "ok"


async def test_runs_inside_a_group_nest_under_the_group_span(
    traced, fake_provider_env, mlflow_server, experiment
):
    fake_provider_env.enqueue(FakeReply.text("A."), FakeReply.text("B."))

    async def body():
        await complete("a", model="openai:gpt-4o-mini")
        await complete("b", model="openai:gpt-4o-mini")
        return "done"

    assert await run_group("workflow", body, name="pipeline") == "done"
    assert flush_tracing()

    trace = one_trace(mlflow_server, experiment, spans=5)
    [group] = by_name(trace, "workflow")
    runs = by_name(trace, "complete")
    chats = by_name(trace, "chat")
    assert group["attrs"]["gen_ai.operation.name"] == "invoke_workflow"
    assert group["attrs"]["gluellm.run.name"] == "pipeline"
    assert {r["parent_span_id"] for r in runs} == {group["span_id"]}
    assert {c["parent_span_id"] for c in chats} == {r["span_id"] for r in runs}
    assert {r["attrs"]["gluellm.run.parent_id"] for r in runs} == {group["attrs"]["gluellm.run.id"]}
