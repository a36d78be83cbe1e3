"""The fake provider server speaks Anthropic's wire format to the real anthropic SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import httpx
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

USER = [{"role": "user", "content": "What is the weather in Tokyo?"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}},
    "required": ["city", "temperature"],
    "additionalProperties": False,
}


@pytest.fixture
async def client(fake_provider: FakeProviderServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=fake_provider.anthropic_base_url, api_key="sk-ant-test", max_retries=0
    ) as client:
        yield client


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_default_answer_echoes_the_last_user_message(client, fake_provider):
    raw = await client.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=100, messages=USER, system="Be brief."
    )
    message = raw.parse()

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Echo: What is the weather in Tokyo?"
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-sonnet-4-5"
    # 6 words of messages + 2 of system prompt; 7 words of answer
    assert (message.usage.input_tokens, message.usage.output_tokens) == (8, 7)
    assert raw.headers["request-id"].startswith("req_")
    (request,) = fake_provider.chat_requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.api == "anthropic"


async def test_offered_tools_are_not_called_by_default(client):
    message = await client.messages.create(
        model="m", max_tokens=100, messages=USER, tools=[WEATHER_TOOL]
    )

    assert [block.type for block in message.content] == ["text"]


async def test_a_forced_tool_is_called_with_schema_valid_input(client):
    message = await client.messages.create(
        model="m",
        max_tokens=100,
        messages=USER,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": "get_weather"},
    )

    (block,) = message.content
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert isinstance(block.input["location"], str)
    assert message.stop_reason == "tool_use"


async def test_scripted_tool_use_blocks(client, fake_provider):
    fake_provider.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Tokyo"}), content="Let me check.")
    )

    message = await client.messages.create(model="m", max_tokens=100, messages=USER)

    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.content[0].text == "Let me check."
    assert message.content[1].input == {"location": "Tokyo"}
    assert message.content[1].id.startswith("toolu_")
    assert message.stop_reason == "tool_use"


async def test_tool_results_are_summarized_by_default(client):
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "Sunny"}],
        },
    ]

    message = await client.messages.create(model="m", max_tokens=100, messages=messages)

    assert message.content[0].text == "Tool results: Sunny"


async def test_the_stream_follows_anthropics_event_sequence(fake_provider):
    fake_provider.enqueue(
        FakeReply.tool_calls(
            ("get_weather", {"location": "Tokyo"}), content="Let me check.", usage=(9, 4)
        )
    )
    body = {"model": "m", "max_tokens": 10, "messages": USER, "stream": True}

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.anthropic_base_url}/v1/messages", json=body)

    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    partial = [
        d["delta"]["partial_json"]
        for _, d in events
        if d.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert len(partial) > 1  # the tool input arrives in several pieces
    assert names == [
        "message_start",
        "ping",
        *["content_block_start", *["content_block_delta"] * 3, "content_block_stop"],
        *["content_block_start", *["content_block_delta"] * len(partial), "content_block_stop"],
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    text = [d["delta"]["text"] for n, d in events if d.get("delta", {}).get("type") == "text_delta"]
    assert text == ["Let", " me", " check."]
    assert json.loads("".join(partial)) == {"location": "Tokyo"}
    message_delta = events[-2][1]
    assert message_delta["delta"]["stop_reason"] == "tool_use"
    assert message_delta["usage"]["output_tokens"] == 4
    assert events[0][1]["message"]["usage"]["input_tokens"] == 9


async def test_the_sdk_assembles_a_streamed_answer(client, fake_provider):
    fake_provider.enqueue(
        FakeReply.tool_calls(("get_weather", {"location": "Tokyo", "days": 2}), content="Sure.")
    )

    async with client.messages.stream(model="m", max_tokens=100, messages=USER) as stream:
        texts = [text async for text in stream.text_stream]
        message = await stream.get_final_message()

    assert texts == ["Sure."]
    assert message.content[1].input == {"location": "Tokyo", "days": 2}
    assert message.stop_reason == "tool_use"


async def test_output_config_json_schema_gets_schema_valid_json(client):
    message = await client.messages.create(
        model="m",
        max_tokens=100,
        messages=USER,
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}},
    )

    value = json.loads(message.content[0].text)
    assert isinstance(value["city"], str)
    assert isinstance(value["temperature"], (int, float))


async def test_models_are_listed_in_anthropics_shape(client):
    models = [model.id async for model in client.models.list()]

    assert "claude-sonnet-4-5" in models


async def test_count_tokens(client):
    count = await client.messages.count_tokens(model="m", messages=USER)

    assert count.input_tokens == 6
