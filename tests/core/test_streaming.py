"""The streaming tool loop over the in-process transports (no plugins, no network)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import attrs
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from gluellm import hookimpl
from gluellm.api import GlueLLM, stream_complete, stream_structured_complete
from gluellm.call import (
    CallHandler,
    ModelCall,
    ModelResponse,
    StreamDelta,
    ToolCallDelta,
)
from gluellm.cli.app import build_app
from gluellm.errors import APIConnectionError, MaxToolIterationsError, StructuredOutputError
from gluellm.runtime import override_transport
from gluellm.streaming import StreamChunk, stream_tool_loop
from gluellm.testing import (
    FunctionTransport,
    ScriptedStream,
    ScriptedTransport,
    reply,
    stream_deltas,
    streamed,
    tool_call,
)
from gluellm.tool_loop import LoopOptions

from .conftest import MODEL

STORY = " ".join(f"word{i}" for i in range(40))


def get_weather(location: str) -> str:
    """Get current weather for a location."""
    return f"Weather in {location}: 22°C, sunny"


class Person(BaseModel):
    name: str
    age: int
    city: str


async def collect(stream: AsyncIterator[StreamChunk]) -> list[StreamChunk]:
    return [chunk async for chunk in stream]


async def drain(stream: AsyncIterator[StreamChunk], into: list[StreamChunk]) -> None:
    """Read ``stream`` to its end (or its error), keeping what arrived."""
    async for chunk in stream:
        into.append(chunk)


def contents(chunks: list[StreamChunk], turn: int | None = None) -> list[str]:
    return [c.content for c in chunks if c.kind == "content" and (turn is None or c.turn == turn)]


# --- transports stream what they are scripted with ---------------------------------


def test_stream_deltas_split_text_into_words_and_tool_calls_into_fragments():
    deltas = stream_deltas(
        reply(
            "Let me check.",
            tool_calls=[tool_call("get_weather", {"location": "Tokyo"}, id="c1")],
            usage=(3, 4),
        )
    )
    assert [d.content for d in deltas if d.content] == ["Let ", "me ", "check."]
    fragments = [f for d in deltas for f in d.tool_calls]
    assert fragments[0].id == "c1"
    assert fragments[0].name == "get_weather"
    assert len(fragments) > 2  # the arguments come in pieces
    assert "".join(f.arguments for f in fragments) == '{"location": "Tokyo"}'
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.total_tokens == 7
    assert deltas[-1].finish_reason == "tool_calls"


async def test_scripted_transport_streams_only_when_asked(scripted):
    scripted.add(reply("one two"), reply("one two"))
    call = ModelCall(model=MODEL, provider="scripted", model_name="m", messages=())
    await scripted.complete(call)
    streamed_response = await scripted.complete(attrs.evolve(call, stream=True))
    assert len(scripted.streams) == 1
    assert streamed_response.content is None
    assert streamed_response.stream is scripted.streams[0]


# --- tokens as they arrive -----------------------------------------------------------


async def test_chunks_reach_the_reader_as_the_transport_yields_them(scripted):
    scripted.add(reply(STORY, usage=(5, 40)))
    seen_when_delivered = []
    async for chunk in stream_complete("Tell me a story", model=MODEL):
        if chunk.kind == "content":
            # The reader holds each chunk before the transport has produced the next one.
            seen_when_delivered.append(scripted.streams[0].delivered)
    assert scripted.calls[0].stream is True
    assert seen_when_delivered == list(range(1, 41))
    assert scripted.streams[0].exhausted
    assert scripted.streams[0].closed


async def test_the_last_chunk_is_done_and_carries_the_result(scripted):
    scripted.add(reply("Hello there, friend.", usage=(5, 3)))
    chunks = await collect(stream_complete("Hi", model=MODEL))
    assert [c.done for c in chunks] == [False, False, False, True]
    assert "".join(contents(chunks)) == "Hello there, friend."
    result = chunks[-1].result
    assert result is not None
    assert result.final_response == "Hello there, friend."
    assert result.tokens_used == {"prompt": 5, "completion": 3, "total": 8}
    assert result.correlation_id == scripted.calls[0].correlation_id


# --- tools mid-stream ----------------------------------------------------------------


async def test_tools_run_mid_stream_and_the_next_answer_streams_token_by_token(scripted):
    ran = []

    def weather(location: str) -> str:
        """Weather for a location."""
        ran.append(location)
        return f"Sunny in {location}"

    final = "It is sunny in Tokyo today, with a light breeze from the sea."
    scripted.add(
        reply(
            "Let me check.",
            tool_calls=[tool_call("weather", {"location": "Tokyo"}, id="c1")],
            usage=(10, 5),
        ),
        reply(final, usage=(20, 13)),
    )
    events = []
    async for chunk in stream_complete("Weather in Tokyo?", model=MODEL, tools=[weather]):
        # What had happened when each chunk reached the reader.
        events.append((chunk, list(ran), len(scripted.streams)))

    kinds = [c.kind for c, _, _ in events]
    assert kinds == (
        ["content"] * 3 + ["tool_call", "tool_result"] + ["content"] * len(final.split()) + ["done"]
    )
    call_event = next(e for e in events if e[0].kind == "tool_call")
    result_event = next(e for e in events if e[0].kind == "tool_result")
    assert call_event[0].tool_call is not None
    assert call_event[0].tool_call.name == "weather"
    assert call_event[0].tool_call.arguments == '{"location": "Tokyo"}'
    assert call_event[1] == []  # announced before it ran
    assert result_event[1] == ["Tokyo"]  # reported once it had run ...
    assert result_event[2] == 1  # ... and before the next turn was requested
    assert result_event[0].tool_result is not None
    assert result_event[0].tool_result.result == "Sunny in Tokyo"
    assert result_event[0].tool_calls_made == 1

    chunks = [c for c, _, _ in events]
    words = final.split()
    assert contents(chunks, turn=1) == [w + " " for w in words[:-1]] + [words[-1]]
    result = chunks[-1].result
    assert result is not None
    assert result.final_response == final
    assert result.tool_calls_made == 1
    assert result.tool_execution_history[0]["result"] == "Sunny in Tokyo"
    assert result.tokens_used == {"prompt": 30, "completion": 18, "total": 48}
    # The second turn saw the assistant's tool call and the tool's result.
    second = scripted.calls[1].messages
    assert second[-2]["content"] == "Let me check."
    assert second[-2]["tool_calls"][0]["id"] == "c1"
    assert second[-1] == {"role": "tool", "tool_call_id": "c1", "content": "Sunny in Tokyo"}


async def test_usage_is_summed_over_every_turn(scripted):
    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"location": "A"})], usage=(11, 2)),
        reply(tool_calls=[tool_call("get_weather", {"location": "B"})], usage=(17, 3)),
        reply("Done.", usage=(23, 1)),
    )
    chunks = await collect(stream_complete("Weather?", model=MODEL, tools=[get_weather]))
    assert chunks[-1].result is not None
    assert chunks[-1].result.tokens_used == {"prompt": 51, "completion": 6, "total": 57}
    assert chunks[-1].result.tool_calls_made == 2


async def test_parallel_tool_results_are_reported_as_they_finish_and_recorded_in_order(scripted):
    release_slow = asyncio.Event()

    async def slow() -> str:
        """Slow tool."""
        await release_slow.wait()
        return "slow done"

    async def fast() -> str:
        """Fast tool."""
        return "fast done"

    scripted.add(
        reply(tool_calls=[tool_call("slow", id="s"), tool_call("fast", id="f")]),
        reply("Both done."),
    )
    order = []
    async for chunk in stream_complete("Go", model=MODEL, tools=[slow, fast]):
        if chunk.kind == "tool_result":
            assert chunk.tool_result is not None
            order.append(chunk.tool_result.tool_name)
            release_slow.set()  # the fast one was reported while the slow one still ran
    assert order == ["fast", "slow"]
    tool_messages = [m for m in scripted.calls[1].messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["s", "f"]


async def test_interleaved_tool_call_fragments_are_assembled_by_index():
    deltas = [
        StreamDelta(tool_calls=[ToolCallDelta(index=1, id="b", name="get_weather")]),
        StreamDelta(tool_calls=[ToolCallDelta(index=0, id="a", name="get_weather")]),
        StreamDelta(tool_calls=[ToolCallDelta(index=0, arguments='{"location"')]),
        StreamDelta(tool_calls=[ToolCallDelta(index=1, arguments='{"location": "Oslo"}')]),
        StreamDelta(tool_calls=[ToolCallDelta(index=0, arguments=': "Lima"}')]),
        StreamDelta(finish_reason="tool_calls"),
    ]
    steps = [ModelResponse(stream=ScriptedStream(deltas)), reply("ok")]
    transport = ScriptedTransport(*steps)
    with override_transport(transport):
        chunks = await collect(stream_complete("Go", model=MODEL, tools=[get_weather]))
    calls = [c.tool_call for c in chunks if c.kind == "tool_call"]
    assert [(c.id, c.arguments) for c in calls if c] == [
        ("a", '{"location": "Lima"}'),
        ("b", '{"location": "Oslo"}'),
    ]
    assert chunks[-1].result is not None
    assert [h["result"] for h in chunks[-1].result.tool_execution_history] == [
        "Weather in Lima: 22°C, sunny",
        "Weather in Oslo: 22°C, sunny",
    ]


async def test_tool_observers_hear_of_each_streamed_execution(plugin_manager, scripted):
    heard = []

    class Observer:
        @hookimpl
        def on_tool_call(self, execution):
            heard.append(execution.tool_name)

    plugin_manager.register(Observer(), name="observer")
    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"location": "A"})]),
        reply("ok"),
    )
    await collect(stream_complete("Go", model=MODEL, tools=[get_weather]))
    assert heard == ["get_weather"]


async def test_max_tool_iterations_stops_the_stream(scripted):
    for _ in range(3):
        scripted.add(reply(tool_calls=[tool_call("get_weather", {"location": "A"})]))
    client = GlueLLM(model=MODEL, tools=[get_weather], max_tool_iterations=2)
    chunks: list[StreamChunk] = []
    with pytest.raises(MaxToolIterationsError) as info:
        await drain(client.stream_complete("Loop forever"), chunks)
    assert [c.kind for c in chunks] == ["tool_call", "tool_result"] * 2
    assert len(scripted.calls) == 3
    assert info.value.result.tool_calls_made == 2
    assert client.conversation.messages_dict == []  # a failed stream is not remembered


async def test_execute_tools_false_ends_with_the_pending_calls(scripted):
    scripted.add(reply(tool_calls=[tool_call("get_weather", {"location": "Rome"}, id="p")]))
    chunks = await collect(
        stream_complete("Go", model=MODEL, tools=[get_weather], execute_tools=False)
    )
    assert [c.kind for c in chunks] == ["done"]
    assert chunks[-1].result is not None
    assert chunks[-1].result.pending_tool_calls == [
        {"id": "p", "tool_name": "get_weather", "arguments": {"location": "Rome"}}
    ]


async def test_a_layer_that_answers_whole_still_streams_as_one_chunk():
    class Whole:
        async def complete(self, call: ModelCall) -> ModelResponse:
            return reply("All at once.")

        async def aclose(self) -> None:
            pass

    with override_transport(Whole()):
        chunks = await collect(stream_complete("Hi", model=MODEL))
    assert [(c.kind, c.content) for c in chunks] == [("content", "All at once."), ("done", "")]


# --- conversation memory -------------------------------------------------------------


async def test_memory_is_committed_only_when_the_stream_completes(scripted):
    scripted.add(reply("First answer, in words."), reply("Second answer."), reply("Third."))
    client = GlueLLM(model=MODEL)
    async with contextlib.aclosing(client.stream_complete("one")) as chunks:
        async for _ in chunks:
            break  # abandoned: not remembered
    assert client.conversation.messages_dict == []

    async for chunk in client.stream_complete("two"):
        if chunk.done:
            break  # stopping at the last chunk is completing
    assert [m["content"] for m in client.conversation.messages_dict] == ["two", "Second answer."]

    await collect(client.stream_complete("three"))
    assert [m["content"] for m in scripted.calls[2].messages[1:]] == [
        "two",
        "Second answer.",
        "three",
    ]


# --- cancellation and failures -------------------------------------------------------


async def test_break_inside_aclosing_closes_the_transport_stream_at_once(scripted):
    scripted.add(reply(STORY))
    async with contextlib.aclosing(stream_complete("Story", model=MODEL)) as chunks:
        async for _ in chunks:
            break
    stream = scripted.streams[0]
    assert stream.closed
    assert not stream.exhausted
    assert stream.delivered == 1


async def test_a_plain_break_closes_the_transport_stream_promptly(scripted):
    scripted.add(reply(STORY))
    async for _ in stream_complete("Story", model=MODEL):
        break
    stream = scripted.streams[0]
    # The abandoned generator is finalized by the event loop: within a few iterations,
    # not whenever a garbage collection happens to run.
    for _ in range(10):
        if stream.closed:
            break
        await asyncio.sleep(0)
    assert stream.closed
    assert not stream.exhausted
    assert stream.delivered == 1


async def test_cancelling_the_reader_closes_the_transport_stream():
    transport = FunctionTransport(lambda call: streamed(reply(STORY), delay=0.01))
    first = asyncio.Event()

    async def read() -> None:
        async for _ in stream_complete("Story", model=MODEL):
            first.set()

    with override_transport(transport):
        task = asyncio.create_task(read())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    stream = transport.streams[0]
    assert stream.closed
    assert not stream.exhausted


async def test_leaving_during_tool_execution_cancels_running_tools(scripted):
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever() -> str:
        """Never finishes."""
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    async def quick() -> str:
        """Finishes at once."""
        return "quick"

    scripted.add(reply(tool_calls=[tool_call("forever"), tool_call("quick")]))
    async with contextlib.aclosing(
        stream_complete("Go", model=MODEL, tools=[forever, quick])
    ) as chunks:
        async for chunk in chunks:
            if chunk.kind == "tool_result":
                break
    assert started.is_set()
    assert cancelled.is_set()


async def test_a_stream_cut_midway_raises_a_classified_error_and_is_not_replayed(
    plugin_manager, scripted
):
    attempts = []

    class Retrier:
        """Retries connection errors: the pipeline must only let it act before chunk one."""

        @hookimpl
        def get_retrier(self, call):
            async def retry(call: ModelCall, send: CallHandler) -> ModelResponse:
                for attempt in range(3):
                    attempts.append(attempt)
                    try:
                        return await send(call)
                    except APIConnectionError:
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            return retry

    plugin_manager.register(Retrier(), name="retrier")
    scripted.add(
        APIConnectionError("refused"),  # before the stream: retried
        streamed(reply(STORY), cut_after=3),  # midway: raised to the reader
        reply("never requested"),
    )
    received: list[StreamChunk] = []
    with pytest.raises(APIConnectionError, match="cut after 3"):
        await drain(stream_complete("Story", model=MODEL), received)
    assert contents(received) == ["word0 ", "word1 ", "word2 "]
    assert attempts == [0, 1]
    assert len(scripted.calls) == 2
    assert scripted.remaining == 1
    assert scripted.streams[0].closed


# --- structured output ---------------------------------------------------------------


async def test_structured_stream_yields_partial_objects_then_the_validated_one(scripted):
    scripted.add(reply('{"name": "Ada Lovelace", "age": 36, "city": "London"}', usage=(4, 9)))
    items = [p async for p in stream_structured_complete("Who?", Person, model=MODEL)]
    *partials, final = items
    assert partials, "no partial object before the final one"
    assert partials[0].model_fields_set < {"name", "age", "city"}
    assert any(p.name == "Ada " and p.age is None for p in partials)
    assert final == Person(name="Ada Lovelace", age=36, city="London")
    assert final.model_fields_set == {"name", "age", "city"}
    assert final.tokens_used == {"prompt": 4, "completion": 9, "total": 13}  # type: ignore[attr-defined]
    assert scripted.calls[0].response_format is Person
    assert scripted.calls[0].stream


async def test_structured_stream_runs_tools_first_and_restarts_after_their_turn(scripted):
    scripted.add(
        # Text that would parse as a partial Person, in a turn that then calls a tool.
        reply(
            '{"name": "Wrong", "age": 1',
            tool_calls=[tool_call("get_weather", {"location": "Bonn"})],
        ),
        reply('```json\n{"name": "Bo", "age": 5, "city": "Bonn"}\n```'),
    )
    stream = stream_structured_complete("Who?", Person, model=MODEL, tools=[get_weather])
    items = [p async for p in stream]
    assert items[-1] == Person(name="Bo", age=5, city="Bonn")
    assert items[-1].tool_calls_made == 1  # type: ignore[attr-defined]
    # A turn's text streams before the turn reveals its tool calls, so its partials may
    # show; once the answering turn starts, partials come from it alone.
    first_final = next(i for i, p in enumerate(items) if p.name == "Bo")
    assert all(p.name == "Bo" for p in items[first_final:])
    assert any(p.name == "Wrong" for p in items[:first_final])


async def test_structured_stream_reasks_on_invalid_output(scripted):
    scripted.add(
        reply('{"name": "Ann", "age": "old", "city": "Oslo"}'),
        reply('{"name": "Ann", "age": 40, "city": "Oslo"}'),
    )
    client = GlueLLM(model=MODEL)
    items = [p async for p in client.stream_structured_complete("Who?", Person)]
    assert items[-1] == Person(name="Ann", age=40, city="Oslo")
    assert "age" in scripted.calls[1].messages[-1]["content"]  # the re-ask names the problem
    assert len(client.conversation.messages_dict) == 4


async def test_the_loop_reports_reasks_and_gives_up_after_the_allowed_retries(runtime, scripted):
    scripted.add(*(reply('{"name": "Ann"}') for _ in range(3)))
    template = ModelCall(
        model=MODEL, provider="scripted", model_name="m", messages=(), response_format=Person
    )
    options = LoopOptions(
        tools={},
        execute_tools=True,
        max_tool_iterations=3,
        response_format=Person,
        structured_retries=2,
    )
    history = [{"role": "user", "content": "Who?"}]
    chunks: list[StreamChunk] = []
    with pytest.raises(StructuredOutputError) as info:
        await drain(stream_tool_loop(template, [], history, options, runtime), chunks)
    reasks = [c for c in chunks if c.kind == "reask"]
    assert [c.turn for c in reasks] == [0, 1]
    assert reasks[0].reask_message
    assert "age" in reasks[0].reask_message
    assert info.value.attempts == 3
    assert len(scripted.calls) == 3


# --- CLI -----------------------------------------------------------------------------


def test_cli_test_streaming_prints_the_streamed_tokens(plugin_manager):
    transports: list[FunctionTransport] = []

    class Provider:
        @hookimpl
        def register_transports(self, register: Callable[..., None]) -> None:
            def make() -> FunctionTransport:
                transports.append(FunctionTransport(lambda call: "Why did the robot paint?"))
                return transports[-1]

            register("scripted", make)

    plugin_manager.register(Provider(), name="provider")
    result = CliRunner().invoke(
        build_app(plugin_manager), ["test-streaming", "-m", "joke", "--model", MODEL]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Why did the robot paint?")
    assert "5 chunks" in result.output
    assert transports[0].calls[0].stream
    assert transports[0].calls[0].messages[-1]["content"] == "joke"
    assert transports[0].streams[0].exhausted
