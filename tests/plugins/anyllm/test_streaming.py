"""Streaming and per-request behaviour at the transport level, on both HTTP stacks."""

from __future__ import annotations

import asyncio
import json

import pytest

from gluellm.call import StreamDelta, ToolCallDelta, Usage
from gluellm.errors import APIConnectionError, APITimeoutError, RateLimitError
from gluellm_plugins_anyllm.transport import AnyLLMTransport
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

from .conftest import chat_call

pytestmark = pytest.mark.usefixtures("stack")

PROVIDERS = ("openai", "anthropic")


async def collect(stream: object) -> list[StreamDelta]:
    return [delta async for delta in stream]  # type: ignore[attr-defined]


@pytest.fixture
async def transport(server: FakeProviderServer, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    provider = getattr(request, "param", "openai")
    made = AnyLLMTransport(provider)
    yield made
    await made.aclose()


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_stream_yields_text_usage_and_finish_reason(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.enqueue(FakeReply.text("one two three four", usage=(7, 4)))
    response = await transport.complete(chat_call(transport.provider, stream=True))
    assert response.stream is not None
    deltas = await collect(response.stream)

    assert "".join(d.content or "" for d in deltas) == "one two three four"
    assert len([d for d in deltas if d.content]) >= 2  # really streamed, not one block
    usages = [d.usage for d in deltas if d.usage is not None]
    assert usages[-1].prompt_tokens == 7
    assert usages[-1].completion_tokens == 4
    assert any(d.finish_reason for d in deltas)
    assert len(server.chat_requests) == 1
    if transport.provider == "openai":
        assert server.chat_requests[0].body["stream_options"] == {"include_usage": True}


async def test_openai_stream_usage_is_complete(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.enqueue(FakeReply.text("a b", usage=(3, 2)))
    response = await transport.complete(chat_call(stream=True))
    deltas = await collect(response.stream)
    assert [d.usage for d in deltas if d.usage] == [Usage(3, 2, 5)]


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_stream_tool_call_fragments_add_up(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.enqueue(
        FakeReply.tool_calls(
            ("get_weather", {"location": "Tokyo, Japan", "unit": "celsius"}),
            ("get_time", {"zone": "Asia/Tokyo"}),
        )
    )
    response = await transport.complete(chat_call(transport.provider, stream=True))
    deltas = await collect(response.stream)

    fragments: list[ToolCallDelta] = [f for d in deltas for f in d.tool_calls]
    calls: dict[int, dict[str, str]] = {}
    for fragment in fragments:
        call = calls.setdefault(fragment.index, {"name": "", "arguments": "", "id": ""})
        call["name"] += fragment.name or ""
        call["id"] += fragment.id or ""
        call["arguments"] += fragment.arguments
    assert len(fragments) > 2  # arguments arrived in pieces
    assert [c["name"] for c in calls.values()] == ["get_weather", "get_time"]
    assert json.loads(calls[min(calls)]["arguments"]) == {
        "location": "Tokyo, Japan",
        "unit": "celsius",
    }
    assert all(c["id"] for c in calls.values())


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_error_before_the_first_chunk_raises_from_complete(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    # Raised inside the pipeline, where a retry layer can still act on it.
    server.enqueue(Fault.status(429, retry_after=0.5))
    with pytest.raises(RateLimitError):
        await transport.complete(chat_call(transport.provider, stream=True))
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_cut_stream_raises_connection_error_after_one_request(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.enqueue(Fault.cut_stream(after_chunks=4))
    response = await transport.complete(chat_call(transport.provider, stream=True))
    received: list[StreamDelta] = []

    async def read_all() -> None:
        async for delta in response.stream:  # type: ignore[union-attr]
            received.append(delta)

    with pytest.raises(APIConnectionError):
        await read_all()
    assert received  # some text arrived before the cut
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_breaking_out_closes_the_connection(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.stream_chunk_delay = 0.05
    server.enqueue(FakeReply.text(" ".join(f"w{i}" for i in range(200))))
    response = await transport.complete(chat_call(transport.provider, stream=True))
    async for _delta in response.stream:  # type: ignore[union-attr]
        break
    await response.stream.aclose()  # type: ignore[union-attr]

    for _ in range(100):  # the server notices the hang-up at its next write
        if server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert server.disconnects == 1
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("transport", PROVIDERS, indirect=True)
async def test_transport_passes_the_timeout_to_the_sdk(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    # No pipeline here: only the SDK's per-request timeout can end this call.
    server.enqueue(Fault.delay(5.0, then=FakeReply.text("late")))
    with pytest.raises(APITimeoutError):
        await transport.complete(chat_call(transport.provider, timeout=0.3))
    assert len(server.chat_requests) == 1


async def test_stream_closed_before_reading_releases_the_response(
    server: FakeProviderServer, transport: AnyLLMTransport
) -> None:
    server.stream_chunk_delay = 0.05
    server.enqueue(FakeReply.text(" ".join(f"w{i}" for i in range(200))))
    response = await transport.complete(chat_call(stream=True))
    await response.stream.aclose()  # type: ignore[union-attr]
    assert await collect(response.stream) == []
    for _ in range(100):
        if server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert server.disconnects == 1
