"""A stream that ends without a finish reason was cut: an error, and nothing of it is kept."""

from __future__ import annotations

from typing import Any

import pytest

from gluellm.api import GlueLLM
from gluellm.call import ModelResponse, StreamDelta
from gluellm.errors import APIConnectionError, StreamCutError
from gluellm.testing import ScriptedStream

from .conftest import MODEL


async def read_into(stream: Any, into: list) -> None:
    async for chunk in stream:
        into.append(chunk)


def cut_stream(call: object) -> ModelResponse:
    deltas = [StreamDelta(content="The answer "), StreamDelta(content="is")]  # no finish
    return ModelResponse(stream=ScriptedStream(deltas))


async def test_a_stream_without_finish_reason_raises_and_is_not_remembered(scripted):
    scripted.add(cut_stream)
    client = GlueLLM(model=MODEL)
    received: list = []
    with pytest.raises(StreamCutError, match="ended without a finish reason after 2 chunks"):
        await read_into(client.stream_complete("Question?"), received)
    assert [c.content for c in received] == ["The answer ", "is"]
    assert not any(c.done for c in received)
    assert client.conversation.messages == []


async def test_a_cut_stream_is_a_retry_safe_connection_error(scripted):
    scripted.add(cut_stream)
    with pytest.raises(APIConnectionError):
        await read_into(GlueLLM(model=MODEL).stream_complete("Question?"), [])


async def test_a_finished_stream_is_remembered(scripted):
    scripted.add("All good.")
    client = GlueLLM(model=MODEL)
    chunks = [c async for c in client.stream_complete("Question?")]
    assert chunks[-1].done
    assert [m.content for m in client.conversation.messages] == ["Question?", "All good."]


async def test_observers_hear_of_a_cut_stream_as_a_failure(scripted, plugin_manager):
    from gluellm import hookimpl

    ends: list[Any] = []

    class Observer:
        @hookimpl
        def on_call_end(self, response: Any, error: Any) -> None:
            ends.append((response, error))

        @hookimpl
        def on_run_end(self, end: Any) -> None:
            ends.append(end.status)

    plugin_manager.register(Observer())
    scripted.add(cut_stream)
    with pytest.raises(StreamCutError):
        await read_into(GlueLLM(model=MODEL).stream_complete("Question?"), [])
    [(response, error), status] = ends
    assert response is None
    assert isinstance(error, StreamCutError)
    assert status == "error"
