"""Model parameters reach the provider's wire format, on OpenAI and Anthropic alike."""

from __future__ import annotations

import pytest

from gluellm.api import GlueLLM, complete
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply


def get_weather(location: str) -> str:
    """Get the current weather.

    Args:
        location: City name.
    """
    return f"sunny in {location}"


@pytest.mark.usefixtures("runtime")
async def test_openai_request_carries_every_parameter(server: FakeProviderServer) -> None:
    server.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Oslo"})), FakeReply.text("Sunny.")
    )
    await complete(
        "Weather in Oslo?",
        model="openai:gpt-4o-mini",
        tools=[get_weather],
        temperature=0.2,
        max_tokens=64,
        top_p=0.9,
        stop=["END"],
        seed=7,
        tool_choice="get_weather",
        extra_params={"presence_penalty": 0.5},
    )
    body = server.chat_requests[0].body
    assert body["temperature"] == 0.2
    # OpenAI's current name for it; older servers take max_tokens.
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 64
    assert body["top_p"] == 0.9
    assert body["stop"] == ["END"]
    assert body["seed"] == 7
    assert body["presence_penalty"] == 0.5
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.usefixtures("runtime")
async def test_call_values_override_the_clients(server: FakeProviderServer) -> None:
    client = GlueLLM(model="openai:gpt-4o-mini", temperature=1.0, max_tokens=10)
    await client.complete("one")
    await client.complete("two", temperature=0.0)
    first, second = (r.body for r in server.chat_requests)

    def limit(body: dict) -> int:
        return body.get("max_completion_tokens", body.get("max_tokens"))

    assert (first["temperature"], limit(first)) == (1.0, 10)
    assert (second["temperature"], limit(second)) == (0.0, 10)


@pytest.mark.usefixtures("runtime")
async def test_anthropic_request_gets_the_parameters_in_its_own_form(
    server: FakeProviderServer,
) -> None:
    server.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Oslo"})), FakeReply.text("Sunny.")
    )
    await complete(
        "Weather in Oslo?",
        model="anthropic:claude-3-5-sonnet-20241022",
        tools=[get_weather],
        temperature=0.3,
        max_tokens=100,
        stop="END",
        tool_choice="required",
    )
    body = server.chat_requests[0].body
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 100
    assert body["stop_sequences"] == ["END"]
    assert body["tool_choice"]["type"] == "any"


@pytest.mark.usefixtures("runtime")
async def test_per_call_model_goes_to_that_model(server: FakeProviderServer) -> None:
    client = GlueLLM(model="openai:gpt-4o-mini")
    await client.complete("hi", model="openai:gpt-4.1-nano")
    assert server.chat_requests[0].model == "gpt-4.1-nano"
