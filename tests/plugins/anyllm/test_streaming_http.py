"""Streaming over loopback HTTP: GlueLLM -> any-llm -> provider SDK -> fake server (SSE).

Timing checks compare arrival times with the server's own pacing (it sleeps at least
``stream_chunk_delay`` between frames), never with absolute speeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel

from gluellm.api import GlueLLM, stream_complete, stream_structured_complete
from gluellm.errors import APIConnectionError
from gluellm.runtime import Runtime, use_runtime
from gluellm.streaming import StreamChunk
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

from .conftest import make_runtime

PROVIDERS = ("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-20241022")
OPENAI = PROVIDERS[0]
TOKENS_200 = " ".join(f"tok{i}" for i in range(200))


def get_weather(location: str) -> str:
    """Get the current weather.

    Args:
        location: City name.
    """
    return f"sunny in {location}"


class City(BaseModel):
    name: str
    country: str
    population: int


async def drain(stream: AsyncIterator[StreamChunk], into: list[StreamChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def wait_for(condition, within: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``within`` seconds pass (a bound, not a speed check)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.mark.usefixtures("runtime", "stack")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_first_chunk_arrives_before_the_server_finished_sending(
    server: FakeProviderServer, model: str
) -> None:
    delay = 0.005
    server.stream_chunk_delay = delay
    server.enqueue(FakeReply.text(TOKENS_200))
    arrivals: list[float] = []
    text = []
    async for chunk in stream_complete("Count to 200.", model=model):
        if chunk.kind == "content":
            arrivals.append(time.monotonic())
            text.append(chunk.content)

    assert "".join(text) == TOKENS_200
    assert len(arrivals) == 200  # one chunk per token the server sent
    received_at = server.chat_requests[0].received_at
    # The server sleeps at least `delay` before each of the 199 tokens after the first,
    # so it cannot have finished before this moment; the first chunk came earlier.
    server_done_at_the_earliest = received_at + 199 * delay
    assert arrivals[0] < server_done_at_the_earliest
    # And the tokens were handed over as they came, not buffered to the end.
    assert arrivals[-1] - arrivals[0] >= 198 * delay


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_with_tools_the_final_answer_streams_and_usage_is_summed(
    server: FakeProviderServer, model: str
) -> None:
    final = " ".join(f"It is sunny in Paris, word{i}." for i in range(5))
    server.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Paris"}), usage=(30, 8)),
        FakeReply.text(final, usage=(52, 25)),
    )
    chunks = [c async for c in stream_complete("Weather?", model=model, tools=[get_weather])]

    kinds = [c.kind for c in chunks]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("done")
    after_tools = [c.content for c in chunks if c.kind == "content" and c.turn == 1]
    assert len(after_tools) == len(final.split())  # one chunk per token the server sent
    assert "".join(after_tools) == final
    result = chunks[-1].result
    assert result is not None
    assert result.final_response == final
    assert result.tool_execution_history[0]["result"] == "sunny in Paris"
    assert result.tool_execution_history[0]["arguments"] == {"location": "Paris"}
    assert result.tokens_used == {"prompt": 82, "completion": 33, "total": 115}

    first, second = server.chat_requests
    assert first.stream
    assert second.stream
    assert "sunny in Paris" in str(second.messages[-1])  # the tool result went back
    if first.api == "openai":
        assert first.body["stream_options"] == {"include_usage": True}


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_structured_stream_yields_partial_objects_before_the_validated_one(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(FakeReply.json({"name": "Paris", "country": "France", "population": 2102650}))
    items = [c async for c in stream_structured_complete("Paris?", City, model=model)]

    *partials, final = items
    assert final == City(name="Paris", country="France", population=2102650)
    incomplete = [p for p in partials if p.model_fields_set != {"name", "country", "population"}]
    assert incomplete, "no incomplete object before the final one"
    assert final.tokens_used is not None  # type: ignore[attr-defined]
    assert server.chat_requests[0].stream


@pytest.fixture
async def runtime_with_retries(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    """The any-llm transport plus the retry plugin: a cut stream must still not be replayed."""
    stamina_plugin = pytest.importorskip("gluellm_plugins_stamina.plugin")
    fresh = make_runtime()
    fresh.plugin_manager.register(stamina_plugin, name="stamina")
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


@pytest.mark.usefixtures("runtime_with_retries")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_a_stream_cut_midway_raises_a_connection_error_and_is_not_replayed(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(Fault.cut_stream(after_chunks=4), FakeReply.text("never sent"))
    received: list[StreamChunk] = []
    with pytest.raises(APIConnectionError):
        await drain(stream_complete("Tell me a story.", model=model), received)
    assert [c.kind for c in received] == ["content"] * len(received)
    assert received  # chunks were delivered before the cut
    assert len(server.chat_requests) == 1
    assert server.pending == 1


@pytest.mark.usefixtures("runtime", "stack")
async def test_break_closes_the_connection(server: FakeProviderServer) -> None:
    server.stream_chunk_delay = 0.01
    server.enqueue(FakeReply.text(TOKENS_200))
    seen = 0
    async for chunk in stream_complete("Count.", model=OPENAI):
        seen += chunk.kind == "content"
        if seen == 3:
            break
    assert await wait_for(lambda: server.disconnects == 1), "the server saw no disconnect"


@pytest.mark.usefixtures("runtime")
async def test_cancelling_the_reader_closes_the_connection(server: FakeProviderServer) -> None:
    server.stream_chunk_delay = 0.01
    server.enqueue(FakeReply.text(TOKENS_200))
    first = asyncio.Event()

    async def read() -> None:
        async for _ in stream_complete("Count.", model=OPENAI):
            first.set()

    task = asyncio.create_task(read())
    await first.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await wait_for(lambda: server.disconnects == 1), "the server saw no disconnect"


@pytest.mark.usefixtures("runtime")
async def test_conversation_remembers_a_completed_stream(server: FakeProviderServer) -> None:
    server.enqueue(FakeReply.text("Blue it is."), FakeReply.text("You said blue."))
    client = GlueLLM(model=OPENAI)
    [c async for c in client.stream_complete("My favourite colour is blue.")]
    [c async for c in client.stream_complete("What is my favourite colour?")]
    contents = [m["content"] for m in server.chat_requests[1].messages[1:]]
    assert contents == [
        "My favourite colour is blue.",
        "Blue it is.",
        "What is my favourite colour?",
    ]
