"""The tool loop over the in-process transport."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gluellm.api import GlueLLM, complete
from gluellm.errors import MaxToolIterationsError
from gluellm.runtime import override_transport
from gluellm.testing import FunctionTransport, reply, tool_call

from .conftest import MODEL


def get_weather(location: str) -> str:
    """Get current weather for a location."""
    return f"Weather in {location}: 22°C, sunny"


async def test_tool_loop_runs_tools_and_returns_the_final_answer(scripted):
    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"location": "Tokyo"}, id="c1")], usage=(10, 5)),
        reply("It is sunny in Tokyo.", usage=(20, 7)),
    )
    result = await complete("Weather in Tokyo?", model=MODEL, tools=[get_weather])
    assert result.final_response == "It is sunny in Tokyo."
    assert result.tool_calls_made == 1
    assert result.tool_execution_history == [
        {
            "tool_call_id": "c1",
            "tool_name": "get_weather",
            "arguments": {"location": "Tokyo"},
            "result": "Weather in Tokyo: 22°C, sunny",
            "error": False,
        }
    ]
    assert result.tokens_used == {"prompt": 30, "completion": 12, "total": 42}
    second = scripted.calls[1].messages
    assert second[-2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "Weather in Tokyo: 22°C, sunny",
    }
    assert scripted.calls[0].tools[0]["function"]["name"] == "get_weather"
    assert "<name>get_weather</name>" in scripted.calls[0].messages[0]["content"]


async def test_errors_reach_the_model_and_the_loop_goes_on(scripted):
    def explode() -> str:
        """Always fails."""
        raise RuntimeError("tool crashed")

    scripted.add(
        reply(
            tool_calls=[
                tool_call("explode", {}, id="a"),
                tool_call("teleport", {}, id="b"),
                tool_call("get_weather", '{"location": "Par', id="c"),
                tool_call("get_weather", {"location": "Paris"}, id="d"),
            ]
        ),
        reply("Done despite errors."),
    )
    result = await complete("go", model=MODEL, tools=[get_weather, explode])
    assert result.final_response == "Done despite errors."
    assert result.tool_calls_made == 4
    errors = [entry["error"] for entry in result.tool_execution_history]
    assert errors == [True, True, True, False]
    tool_messages = {
        m["tool_call_id"]: m["content"] for m in scripted.calls[1].messages if m["role"] == "tool"
    }
    assert "RuntimeError: tool crashed" in tool_messages["a"]
    assert "unknown tool 'teleport'" in tool_messages["b"]
    assert "not valid JSON" in tool_messages["c"]
    assert tool_messages["d"] == "Weather in Paris: 22°C, sunny"


async def test_two_tool_calls_in_one_turn_run_concurrently(scripted):
    barrier = asyncio.Barrier(2)  # passes only if both tools wait on it at the same time

    async def first() -> str:
        """First."""
        async with asyncio.timeout(5):
            await barrier.wait()
        return "first done"

    async def second() -> str:
        """Second."""
        async with asyncio.timeout(5):
            await barrier.wait()
        return "second done"

    scripted.add(reply(tool_calls=[tool_call("first"), tool_call("second")]), reply("both"))
    result = await complete("go", model=MODEL, tools=[first, second])
    assert [e["result"] for e in result.tool_execution_history] == ["first done", "second done"]


async def test_sync_tools_in_one_turn_run_concurrently_in_threads(scripted):
    barrier = threading.Barrier(2, timeout=5)

    def left() -> str:
        """Left."""
        barrier.wait()
        return "left"

    def right() -> str:
        """Right."""
        barrier.wait()
        return "right"

    scripted.add(reply(tool_calls=[tool_call("left"), tool_call("right")]), reply("ok"))
    result = await complete("go", model=MODEL, tools=[left, right])
    assert [e["error"] for e in result.tool_execution_history] == [False, False]


async def test_a_blocking_sync_tool_does_not_stall_other_completions(runtime):
    released = threading.Event()

    def blocking_tool() -> str:
        """Blocks its thread until the other completion has finished."""
        return "released" if released.wait(timeout=5) else "event loop was blocked"

    async def answer(call):
        if call.tools and call.messages[-1]["role"] == "user":
            return reply(tool_calls=[tool_call("blocking_tool")])
        return reply("answered")

    async def other_completion():
        await asyncio.sleep(0.05)  # let the tool start blocking first
        result = await complete("other", model="fn:model")
        released.set()
        return result

    with override_transport(FunctionTransport(answer)):
        slow, other = await asyncio.gather(
            complete("slow", model="fn:model", tools=[blocking_tool]), other_completion()
        )
    assert other.final_response == "answered"
    assert slow.tool_execution_history[0]["result"] == "released"


async def test_max_tool_iterations_is_a_clear_error_with_the_partial_result(scripted):
    for _ in range(3):
        scripted.add(reply(tool_calls=[tool_call("get_weather", {"location": "X"})]))
    with pytest.raises(MaxToolIterationsError, match="max_tool_iterations=2") as info:
        await complete("loop", model=MODEL, tools=[get_weather], max_tool_iterations=2)
    assert info.value.result.tool_calls_made == 2
    assert len(scripted.calls) == 3


async def test_execute_tools_false_returns_the_requested_calls(scripted):
    calls_made = []

    def record(location: str) -> str:
        """Record."""
        calls_made.append(location)
        return "x"

    scripted.add(reply(tool_calls=[tool_call("record", {"location": "Oslo"}, id="r1")]))
    result = await complete("go", model=MODEL, tools=[record], execute_tools=False)
    assert calls_made == []
    assert result.tool_calls_made == 0
    assert result.pending_tool_calls == [
        {"id": "r1", "tool_name": "record", "arguments": {"location": "Oslo"}}
    ]


async def test_registered_tools_can_be_named(plugin_manager, scripted):
    from gluellm import hookimpl

    class Tools:
        @hookimpl
        def register_tools(self, register):
            register(get_weather)

    plugin_manager.register(Tools())
    scripted.add(reply(tool_calls=[tool_call("get_weather", {"location": "Rome"})]), reply("ok"))
    result = await complete("go", model=MODEL, tools=["get_weather"])
    assert result.tool_execution_history[0]["result"].startswith("Weather in Rome")


async def test_tool_observers_see_every_execution(plugin_manager, scripted):
    from gluellm import hookimpl

    seen = []

    class Observer:
        @hookimpl
        def on_tool_call(self, execution):
            seen.append((execution.tool_name, execution.error, execution.correlation_id))

    plugin_manager.register(Observer())
    scripted.add(reply(tool_calls=[tool_call("get_weather", {"location": "A"})]), reply("ok"))
    result = await complete("go", model=MODEL, tools=[get_weather], correlation_id="cid-1")
    assert seen == [("get_weather", False, "cid-1")]
    assert result.correlation_id == "cid-1"
    assert {c.correlation_id for c in scripted.calls} == {"cid-1"}


async def test_conversations_remember_and_reset_forgets(scripted):
    client = GlueLLM(model=MODEL, system_prompt="You remember.")
    scripted.add("Noted: blue.", "Your favorite color is blue.", "I don't know.")
    await client.complete("My favorite color is blue")
    await client.complete("What's my favorite color?")
    second = [m["content"] for m in scripted.calls[1].messages]
    assert second[1:] == ["My favorite color is blue", "Noted: blue.", "What's my favorite color?"]
    client.reset_conversation()
    await client.complete("What's my favorite color?")
    third = [m["content"] for m in scripted.calls[2].messages]
    assert third[1:] == ["What's my favorite color?"]


async def test_a_failed_turn_is_not_remembered(scripted):
    client = GlueLLM(model=MODEL)
    scripted.add(ConnectionError("down"), "answer")
    with pytest.raises(ConnectionError):
        await client.complete("first try")
    await client.complete("second try")
    assert [m["content"] for m in scripted.calls[1].messages][1:] == ["second try"]
    assert [m.content for m in client.conversation.messages] == ["second try", "answer"]


async def test_tools_added_to_a_client_later_are_offered(scripted):
    def get_time() -> str:
        """Current time."""
        return "12:00"

    client = GlueLLM(model=MODEL, tools=[get_weather])
    client.tools.append(get_time)
    scripted.add("ok")
    await client.complete("hi")
    offered = [tool["function"]["name"] for tool in scripted.calls[0].tools]
    assert offered == ["get_weather", "get_time"]


async def test_a_truncated_answer_is_flagged(scripted):
    from gluellm.call import ModelResponse

    scripted.add(ModelResponse(content="The answer is forty", finish_reason="length"))
    result = await complete("hi", model=MODEL)
    assert result.finish_reason == "length"
    scripted.add("done")
    assert (await complete("hi", model=MODEL)).finish_reason == "stop"


async def test_a_truncated_streamed_answer_is_flagged(scripted):
    from gluellm.api import stream_complete
    from gluellm.call import ModelResponse

    scripted.add(ModelResponse(content="cut short", finish_reason="length"))
    chunks = [chunk async for chunk in stream_complete("hi", model=MODEL)]
    assert chunks[-1].result.finish_reason == "length"
