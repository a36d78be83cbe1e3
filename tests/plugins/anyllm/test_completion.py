"""End to end over loopback HTTP: GlueLLM -> any-llm -> provider SDK -> fake server."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel

from gluellm.api import GlueLLM, complete, structured_complete
from gluellm.errors import StructuredOutputError
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

PROVIDERS = ("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-20241022")


def get_weather(location: str) -> str:
    """Get the current weather.

    Args:
        location: City name.
    """
    return f"sunny in {location}"


class City(BaseModel):
    name: str
    population: int


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_plain_completion(server: FakeProviderServer, model: str) -> None:
    server.enqueue(FakeReply.text("Paris.", usage=(12, 3)))
    result = await complete("What is the capital of France?", model=model)

    assert result.final_response == "Paris."
    assert result.tokens_used == {"prompt": 12, "completion": 3, "total": 15}
    assert len(server.chat_requests) == 1
    request = server.chat_requests[0]
    assert request.headers["X-Correlation-ID"] == result.correlation_id
    assert request.model == model.split(":", 1)[1]
    assert "What is the capital of France?" in json.dumps(request.body)


@pytest.mark.usefixtures("runtime")
async def test_openai_request_has_no_sdk_retry_headers_and_uses_the_key(
    server: FakeProviderServer,
) -> None:
    await complete("hi", model="openai:gpt-4o-mini")
    request = server.chat_requests[0]
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.path == "/v1/chat/completions"


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_tool_loop(server: FakeProviderServer, model: str) -> None:
    server.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Tokyo"}), usage=(20, 5)),
        FakeReply.text("It is sunny in Tokyo.", usage=(30, 6)),
    )
    result = await complete("Weather in Tokyo?", model=model, tools=[get_weather])

    assert result.final_response == "It is sunny in Tokyo."
    assert result.tool_calls_made == 1
    assert result.tool_execution_history[0]["result"] == "sunny in Tokyo"
    assert result.tokens_used == {"prompt": 50, "completion": 11, "total": 61}
    assert len(server.chat_requests) == 2  # one HTTP request per model turn
    first, second = server.chat_requests
    assert first.body["tools"]
    # The second turn carries the tool's result back to the model.
    assert "sunny in Tokyo" in json.dumps(second.body["messages"])


@pytest.mark.usefixtures("runtime")
async def test_parallel_tools_run_concurrently(server: FakeProviderServer) -> None:
    started: list[str] = []
    both_started = asyncio.Event()

    async def slow_weather(location: str) -> str:
        """Weather, slowly.

        Args:
            location: City name.
        """
        started.append(location)
        if len(started) == 2:
            both_started.set()
        # Each call waits for the other: only concurrent execution can finish.
        await asyncio.wait_for(both_started.wait(), timeout=5)
        return f"rain in {location}"

    server.enqueue(
        FakeReply.tool_calls(
            ("slow_weather", {"location": "Oslo"}), ("slow_weather", {"location": "Rome"})
        ),
        FakeReply.text("Rain in both."),
    )
    result = await complete("Oslo and Rome?", model="openai:gpt-4o-mini", tools=[slow_weather])

    assert result.tool_calls_made == 2
    assert sorted(started) == ["Oslo", "Rome"]
    assert len(server.chat_requests) == 2
    tool_messages = [m for m in server.chat_requests[1].body["messages"] if m["role"] == "tool"]
    assert {m["content"] for m in tool_messages} == {"rain in Oslo", "rain in Rome"}


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_structured_output_native_mode(server: FakeProviderServer, model: str) -> None:
    # Nothing scripted: the fake server answers schema-valid JSON only when the request
    # asked for the schema natively.
    city = await structured_complete("Largest city of Japan?", response_format=City, model=model)

    assert isinstance(city, City)
    assert len(server.chat_requests) == 1
    body = server.chat_requests[0].body
    if model.startswith("openai"):
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"]["required"] == [
            "name",
            "population",
        ]
    else:
        assert body["output_config"]["format"]["type"] == "json_schema"


@pytest.mark.usefixtures("runtime")
async def test_structured_output_reasks_after_an_invalid_answer(server: FakeProviderServer) -> None:
    server.enqueue(
        FakeReply.json({"name": "Tokyo", "population": "lots"}),
        FakeReply.json({"name": "Tokyo", "population": 37_000_000}),
    )
    city = await structured_complete(
        "Largest city?", response_format=City, model="openai:gpt-4o-mini"
    )

    assert city == City(name="Tokyo", population=37_000_000)
    assert len(server.chat_requests) == 2
    reask = server.chat_requests[1].body["messages"][-1]
    assert reask["role"] == "user"
    assert "population" in reask["content"]


@pytest.mark.usefixtures("runtime")
async def test_structured_output_gives_up_after_the_allowed_reasks(
    server: FakeProviderServer,
) -> None:
    server.responder = lambda request: FakeReply.json({"name": "Tokyo"})
    with pytest.raises(StructuredOutputError):
        await structured_complete("Largest city?", response_format=City, model="openai:gpt-4o-mini")
    assert len(server.chat_requests) == 3  # the answer and two re-asks (the default)


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("model", PROVIDERS)
async def test_conversation_memory(server: FakeProviderServer, model: str) -> None:
    client = GlueLLM(model=model, system_prompt="You are helpful.")
    server.enqueue(FakeReply.text("Noted."), FakeReply.text("Blue."))
    await client.complete("My favorite color is blue")
    result = await client.complete("What's my favorite color?")

    assert result.final_response == "Blue."
    second = json.dumps(server.chat_requests[1].body)
    assert "My favorite color is blue" in second
    assert "Noted." in second

    client.reset_conversation()
    await client.complete("Fresh start")
    assert "My favorite color is blue" not in json.dumps(server.chat_requests[2].body)


async def test_calls_run_on_the_test_runtime(runtime: object) -> None:
    from gluellm.runtime import get_runtime

    assert get_runtime() is runtime
