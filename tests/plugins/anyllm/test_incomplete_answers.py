"""Incomplete answers are errors, never successes with partial text.

A stream that ends before the model gave its finish reason (the server or a proxy
closed the response early, cleanly or not) raises a retry-safe `APIConnectionError`;
a 200 answer that is not the API's (an HTML page) raises a `ConfigurationError` that
says what arrived, and is not retried. All over loopback HTTP, both providers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gluellm.api import GlueLLM, complete, stream_complete
from gluellm.call import StreamDelta
from gluellm.errors import APIConnectionError, ConfigurationError, LLMError, StreamCutError
from gluellm.runtime import Runtime, use_runtime
from gluellm.stream_assembly import TurnAssembler
from gluellm.streaming import StreamChunk
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

from .conftest import make_runtime

PROVIDERS = ("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-20241022")


@pytest.fixture
async def retrying(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    """The any-llm transport plus the retry plugin, with millisecond waits."""
    stamina_plugin = pytest.importorskip("gluellm_plugins_stamina.plugin")
    fresh = make_runtime(retry_min_wait=0.001, retry_max_wait=0.002, retry_max_attempts=3)
    fresh.plugin_manager.register(stamina_plugin, name="stamina")
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


async def drain(stream: AsyncIterator[StreamChunk], into: list[StreamChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


@pytest.mark.usefixtures("retrying", "stack")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_a_stream_that_ends_before_its_finish_reason_raises(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(Fault.end_stream_early(after_chunks=5), FakeReply.text("never sent"))
    received: list[StreamChunk] = []

    with pytest.raises(StreamCutError, match="ended before the answer did") as caught:
        await drain(stream_complete("Tell me a story.", model=model), received)

    assert received, "the chunks before the end were delivered"
    assert all(chunk.kind == "content" for chunk in received)  # no "done", no result
    assert server.chat_requests[0].headers["X-Correlation-ID"] in str(caught.value)
    # Chunks were delivered, so the retry layer does not replay the stream.
    assert len(server.chat_requests) == 1
    assert server.pending == 1


@pytest.mark.usefixtures("retrying")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_a_stream_that_ends_before_any_chunk_is_retried(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(Fault.end_stream_early(after_chunks=0), FakeReply.text("the whole answer"))

    chunks = [c async for c in stream_complete("hi", model=model)]

    result = chunks[-1].result
    assert result is not None
    assert result.final_response == "the whole answer"
    assert len(server.chat_requests) == 2


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_a_tool_call_cut_before_its_finish_reason_is_not_run(
    server: FakeProviderServer, model: str
) -> None:
    ran: list[str] = []

    def get_weather(location: str) -> str:
        """Get the weather.

        Args:
            location: City name.
        """
        ran.append(location)
        return "sunny"

    reply = FakeReply.tool_calls(("get_weather", {"location": "Paris"}))
    server.enqueue(Fault.end_stream_early(after_chunks=4, then=reply))

    with pytest.raises(StreamCutError, match="no finish reason"):
        await drain(stream_complete("Weather?", model=model, tools=[get_weather]), [])

    assert ran == []
    assert len(server.chat_requests) == 1


@pytest.mark.usefixtures("runtime")
async def test_a_cut_stream_is_not_kept_in_the_conversation(server: FakeProviderServer) -> None:
    server.enqueue(
        Fault.end_stream_early(after_chunks=4, then="Blue is a fine colour indeed"),
        FakeReply.text("Noted."),
    )
    client = GlueLLM(model=PROVIDERS[0])

    with pytest.raises(APIConnectionError):
        await drain(client.stream_complete("My favourite colour is blue."), [])
    [c async for c in client.stream_complete("What did you say?")]

    sent = [str(m.get("content")) for m in server.chat_requests[1].messages]
    assert not any("Blue is" in text for text in sent), sent
    remembered = [(m.role, m.content) for m in client.conversation.messages]
    assert not any("Blue is" in (content or "") for _, content in remembered), remembered


@pytest.mark.usefixtures("retrying", "stack")
@pytest.mark.parametrize("model", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_an_html_page_is_named_and_not_retried(
    server: FakeProviderServer, model: str, stream: bool
) -> None:
    server.enqueue(Fault.html_page(), FakeReply.text("never sent"))

    ask = drain(stream_complete("hi", model=model), []) if stream else complete("hi", model=model)
    with pytest.raises(ConfigurationError) as caught:
        await ask

    message = str(caught.value)
    assert "text/html" in message
    assert "<!DOCTYPE html>" in message
    assert "base URL" in message
    assert "not an async iterable" not in message
    assert len(server.chat_requests) == 1


@pytest.mark.usefixtures("runtime")
async def test_json_labelled_as_text_is_still_read(server: FakeProviderServer) -> None:
    # Some servers label their JSON text/plain; that is not a foreign answer.
    body = (
        b'{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"plain but fine"},"finish_reason":"stop"}]}'
    )
    server.enqueue(Fault.raw(body, content_type="text/plain; charset=utf-8"))

    result = await complete("hi", model=PROVIDERS[0])

    assert result.final_response == "plain but fine"


@pytest.mark.usefixtures("retrying")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_a_truncated_json_answer_is_a_retried_connection_error(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(Fault.end_stream_early(), FakeReply.text("whole"))

    result = await complete("hi", model=model)

    assert result.final_response == "whole"
    assert len(server.chat_requests) == 2


@pytest.mark.usefixtures("runtime")
async def test_without_retries_a_truncated_json_answer_raises(server: FakeProviderServer) -> None:
    server.enqueue(Fault.end_stream_early())

    with pytest.raises(APIConnectionError) as caught:
        await complete("hi", model=PROVIDERS[0])

    assert isinstance(caught.value, LLMError)
    assert caught.value.__cause__ is not None


def test_the_turn_assembler_does_not_invent_a_finish_reason() -> None:
    cut = TurnAssembler()
    cut.add(StreamDelta(content="Once upon"))

    finished = TurnAssembler()
    finished.add(StreamDelta(content="The end."))
    finished.add(StreamDelta(finish_reason="stop"))

    assert (cut.finished, cut.response().finish_reason) == (False, None)
    assert (finished.finished, finished.response().finish_reason) == (True, "stop")
