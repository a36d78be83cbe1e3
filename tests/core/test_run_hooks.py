"""Whole-run and tool hooks: wrap_run, on_run_end, wrap_tool, in their documented order."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import attrs
import pytest

from gluellm import hookimpl
from gluellm.api import GlueLLM, complete, embed, stream_complete, structured_complete
from gluellm.errors import AuthenticationError
from gluellm.runs import RunEnd, RunRequest, StreamedRun, current_run, run_group
from gluellm.testing import reply, tool_call
from gluellm.tools import ToolExecution, ToolInvocation

from .conftest import MODEL


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"Sunny in {city}"


def get_time(city: str) -> str:
    """Time in a city."""
    return f"Noon in {city}"


class Recorder:
    """A plugin that logs every run, model call and tool it wraps or observes."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.ends: list[RunEnd] = []

    @hookimpl
    def wrap_run(self, run: RunRequest) -> Any:
        async def middleware(run: RunRequest, call_next: Any) -> Any:
            self.events.append(f"run-start:{run.operation}")
            output = await call_next(run)
            if isinstance(output, StreamedRun):
                output.add_done_callback(lambda end: self.events.append(f"stream-end:{end.status}"))
            else:
                self.events.append(f"run-end:{run.operation}")
            return output

        return middleware

    @hookimpl
    def wrap_call(self, call: Any, runtime: Any) -> Any:
        async def middleware(call: Any, call_next: Any) -> Any:
            assert call.run is not None
            self.events.append("model")
            return await call_next(call)

        return middleware

    @hookimpl
    def wrap_tool(self, invocation: ToolInvocation, runtime: Any) -> Any:
        async def middleware(invocation: ToolInvocation, call_next: Any) -> ToolExecution:
            self.events.append(f"tool:{invocation.tool_name}")
            return await call_next(invocation)

        return middleware

    @hookimpl
    def on_run_end(self, run: RunRequest, end: RunEnd) -> None:
        self.ends.append(end)


@pytest.fixture
def recorder(plugin_manager, runtime) -> Recorder:
    plugin = Recorder()
    plugin_manager.register(plugin, name="recorder")
    return plugin


async def test_wrap_run_sees_one_run_around_its_turns_and_tools(scripted, recorder):
    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})], usage=(10, 2)),
        reply(
            tool_calls=[
                tool_call("get_weather", {"city": "Rome"}),
                tool_call("get_time", {"city": "Rome"}),
            ],
            usage=(20, 3),
        ),
        reply("Sunny in both.", usage=(30, 4)),
    )
    result = await complete("Weather?", model=MODEL, tools=[get_weather, get_time])
    assert recorder.events[0] == "run-start:complete"
    assert recorder.events[-1] == "run-end:complete"
    inner = recorder.events[1:-1]
    assert inner[0] == "model"
    assert inner.count("model") == 3
    assert sorted(inner[1:2]) == ["tool:get_weather"]
    assert sorted(inner[3:5]) == ["tool:get_time", "tool:get_weather"]
    [end] = recorder.ends
    assert end.success
    assert end.output is result
    assert end.run.tools == ("get_weather", "get_time")
    assert end.run.user_message == "Weather?"
    assert end.run.stats.model_calls == 3
    assert end.run.stats.tool_calls == 3
    assert end.usage is not None
    assert end.usage.total_tokens == 69
    assert end.duration_s >= 0


async def test_a_failed_run_ends_with_its_error(scripted, recorder):
    scripted.add(AuthenticationError("bad key"))
    with pytest.raises(AuthenticationError):
        await complete("Hi", model=MODEL)
    [end] = recorder.ends
    assert end.status == "error"
    assert isinstance(end.error, AuthenticationError)
    assert recorder.events == ["run-start:complete", "model"]


async def test_a_stream_is_one_run_that_ends_when_the_stream_ends(scripted, recorder):
    scripted.add(reply("one two three", usage=(3, 3)))
    chunks = [c async for c in stream_complete("Hi", model=MODEL)]
    assert chunks[-1].done
    assert recorder.events == ["run-start:stream_complete", "model", "stream-end:ok"]
    [end] = recorder.ends
    assert end.status == "ok"
    assert end.output is chunks[-1].result
    assert end.usage is not None
    assert end.usage.total_tokens == 6


async def test_a_stream_abandoned_early_ends_as_closed(scripted, recorder):
    scripted.add(reply("one two three four five"))
    async with contextlib.aclosing(stream_complete("Hi", model=MODEL)) as chunks:
        async for _chunk in chunks:
            break
    assert recorder.events[-1] == "stream-end:closed"
    assert recorder.ends[0].status == "closed"


async def test_a_streamed_run_dropped_unread_and_unclosed_still_ends(runtime):
    import gc
    import time

    async def chunks():
        yield "never read"

    ends: list[RunEnd] = []
    run = RunRequest(operation="stream_complete", runtime=runtime, correlation_id="c-1")
    streamed = StreamedRun(run, chunks(), time.perf_counter())
    streamed.add_done_callback(ends.append)
    del streamed
    gc.collect()
    [end] = ends  # a tracer's span for the run ends too
    assert (end.run, end.status, end.output) == (run, "closed", None)


async def test_embedding_runs_are_runs(scripted, recorder):
    result = await embed(["a", "b c"], model=MODEL)
    assert result.count == 2
    assert result.dimension == 8
    assert recorder.events == ["run-start:embed", "model", "run-end:embed"]
    [end] = recorder.ends
    assert end.run.input == ("a", "b c")
    assert end.output is result
    assert result.tokens_used == 3


async def test_embeddings_split_at_the_transport_limit_keep_their_order(scripted, recorder):
    scripted.embed_batch_limit = 3
    texts = [f"text {i}" for i in range(10)]
    result = await embed(texts, model=MODEL)
    assert [len(c.input) for c in scripted.calls] == [3, 3, 3, 1]
    from gluellm.testing import fake_embedding

    assert result.embeddings == [fake_embedding(t) for t in texts]


async def test_runs_started_inside_a_group_nest_under_it(scripted, recorder):
    scripted.add("first", "second")

    async def workflow() -> list[str]:
        parent = current_run()
        assert parent is not None
        assert parent.operation == "workflow"
        a = await complete("one", model=MODEL)
        b = await complete("two", model=MODEL)
        return [a.final_response, b.final_response]

    assert await run_group("workflow", workflow, name="demo") == ["first", "second"]
    by_op = {end.run.operation: end for end in recorder.ends}
    group = by_op["workflow"].run
    steps = [end.run for end in recorder.ends if end.run.operation == "complete"]
    assert len(steps) == 2
    assert all(step.parent is group for step in steps)
    assert group.stats.model_calls == 2  # steps' turns count in the group


async def test_a_wrap_run_middleware_can_reroute_the_model(scripted, plugin_manager):
    class Reroute:
        @hookimpl
        def wrap_run(self, run: RunRequest) -> Any:
            async def middleware(run: RunRequest, call_next: Any) -> Any:
                return await call_next(attrs.evolve(run, model="scripted:other-model"))

            return middleware

    plugin_manager.register(Reroute(), name="reroute")
    scripted.add("ok")
    await complete("Hi", model=MODEL)
    assert scripted.calls[0].model == "scripted:other-model"


async def test_wrap_tool_can_veto_and_bound_a_tool(scripted, plugin_manager):
    async def slow(city: str) -> str:
        """Slow tool."""
        await asyncio.sleep(5)
        return "never"

    class Policy:
        @hookimpl
        def wrap_tool(self, invocation: ToolInvocation, runtime: Any) -> Any:
            async def middleware(invocation: ToolInvocation, call_next: Any) -> ToolExecution:
                if invocation.tool_name == "get_time":
                    return invocation.refuse("time lookups are not allowed")
                try:
                    async with asyncio.timeout(0.05):
                        return await call_next(invocation)
                except TimeoutError:
                    return invocation.refuse("it took longer than 0.05 s")

            return middleware

    plugin_manager.register(Policy(), name="policy")
    scripted.add(
        reply(
            tool_calls=[
                tool_call("get_time", {"city": "Rome"}),
                tool_call("slow", {"city": "Rome"}),
                tool_call("get_weather", {"city": "Rome"}),
            ]
        ),
        "done",
    )
    result = await complete("Hi", model=MODEL, tools=[get_time, slow, get_weather])
    history = {h["tool_name"]: h for h in result.tool_execution_history}
    assert history["get_time"]["error"]
    assert "not allowed" in history["get_time"]["result"]
    assert history["slow"]["error"]
    assert "0.05 s" in history["slow"]["result"]
    assert not history["get_weather"]["error"]


async def test_eval_store_reaches_the_run(scripted, recorder):
    store = object()
    scripted.add("ok")
    await GlueLLM(model=MODEL, eval_store=store).complete("Hi")
    assert recorder.ends[0].run.eval_store is store


async def test_structured_runs_say_so(scripted, recorder):
    from pydantic import BaseModel

    class Answer(BaseModel):
        value: int

    scripted.add('{"value": 4}')
    answer = await structured_complete("2+2?", Answer, model=MODEL)
    assert answer.value == 4
    assert recorder.ends[0].run.operation == "structured_complete"
    assert recorder.ends[0].run.response_format is Answer


async def test_a_broken_call_middleware_is_named_in_the_error_the_caller_gets(
    scripted, plugin_manager
):
    from gluellm.plugins import PluginError

    class Broken:
        @hookimpl
        def wrap_call(self, call: Any) -> Any:
            async def middleware(call: Any, call_next: Any) -> Any:
                raise KeyError("oops")

            return middleware

    plugin_manager.register(Broken(), name="broken-plugin")
    scripted.add("never")
    with pytest.raises(PluginError, match="plugin 'broken-plugin' failed in hook wrap_call"):
        await complete("Hi", model=MODEL)
    assert scripted.calls == []


async def test_a_broken_tool_middleware_fails_only_that_tool_and_says_whose(
    scripted, plugin_manager
):
    class Broken:
        @hookimpl
        def wrap_tool(self, invocation: ToolInvocation) -> Any:
            async def middleware(invocation: ToolInvocation, call_next: Any) -> Any:
                raise ValueError("bad policy")

            return middleware

    plugin_manager.register(Broken(), name="broken-tools")
    scripted.add(reply(tool_calls=[tool_call("get_time", {"city": "Rome"})]), "done")
    result = await complete("Hi", model=MODEL, tools=[get_time])
    [entry] = result.tool_execution_history
    assert entry["error"]
    assert "broken-tools" in entry["result"]
