"""The fake provider server speaks OpenAI's wire format to the real openai SDK and httpx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import openai
import pydantic
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, RecordedRequest

USER = [{"role": "user", "content": "What is the weather in Tokyo?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["location", "days"],
        },
    },
}


@pytest.fixture
async def client(fake_provider: FakeProviderServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0
    ) as client:
        yield client


async def test_default_answer_echoes_the_last_user_message(client, fake_provider):
    raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER)
    completion = raw.parse()

    assert completion.choices[0].message.content == "Echo: What is the weather in Tokyo?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-4o-mini"
    # usage from word counts: 6 prompt words, 7 answer words
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (6, 7)
    assert completion.usage.total_tokens == 13
    assert raw.headers["x-request-id"].startswith("req_")


async def test_offered_tools_are_not_called_by_default(client):
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, tools=[WEATHER_TOOL]
    )

    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content.startswith("Echo:")


async def test_a_forced_tool_choice_calls_that_tool_with_schema_valid_arguments(client):
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )

    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments["location"], str)
    assert isinstance(arguments["days"], int)
    assert completion.choices[0].finish_reason == "tool_calls"


async def test_after_a_tool_turn_the_default_answer_reports_the_results(client):
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 22C"},
    ]
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert completion.choices[0].message.content == "Tool results: Sunny, 22C"


async def test_scripted_replies_are_played_in_order_with_their_usage(client, fake_provider):
    fake_provider.enqueue(FakeReply.text("first", usage=(100, 20)), "second")

    first = await client.chat.completions.create(model="m", messages=USER)
    second = await client.chat.completions.create(model="m", messages=USER)
    third = await client.chat.completions.create(model="m", messages=USER)

    assert first.choices[0].message.content == "first"
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (100, 20)
    assert second.choices[0].message.content == "second"
    assert third.choices[0].message.content.startswith("Echo:")
    assert fake_provider.pending == 0


async def test_scripted_tool_calls_keep_dict_and_raw_arguments(client, fake_provider):
    fake_provider.enqueue(
        FakeReply.tool_calls(
            ("get_weather", {"location": "Tokyo"}), ("get_time", '{"bad json'), content="Checking."
        )
    )

    message = (await client.chat.completions.create(model="m", messages=USER)).choices[0].message

    assert message.content == "Checking."
    assert [c.function.name for c in message.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(message.tool_calls[0].function.arguments) == {"location": "Tokyo"}
    assert message.tool_calls[1].function.arguments == '{"bad json'
    assert len({c.id for c in message.tool_calls}) == 2


async def test_text_streams_one_word_per_chunk_with_usage_last(client, fake_provider):
    fake_provider.enqueue(FakeReply.text("The quick brown fox", usage=(5, 4)))

    stream = await client.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces == ["The", " quick", " brown", " fox"]
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (5, 4)
    assert all(c.usage is None for c in chunks[:-1])
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


async def test_without_include_usage_no_usage_chunk_is_sent(client):
    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]

    assert all(c.choices and c.usage is None for c in chunks)


async def test_streamed_tool_call_fragments_reassemble_into_valid_json(client, fake_provider):
    arguments = {"location": "Tokyo, Japan", "units": "celsius", "days": 3}
    fake_provider.enqueue(FakeReply.tool_calls(("get_weather", arguments), ("get_time", {})))

    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    calls: dict[int, dict[str, str]] = {}
    fragments: dict[int, int] = {}
    async for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            call["name"] += (delta.function.name or "") if delta.function else ""
            call["arguments"] += (delta.function.arguments or "") if delta.function else ""
            if delta.function and delta.function.arguments:
                fragments[delta.index] = fragments.get(delta.index, 0) + 1

    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == arguments
    assert json.loads(calls[1]["arguments"]) == {}
    assert fragments[0] > 1  # the arguments arrive split across several chunks
    assert all(call["id"].startswith("call_") for call in calls.values())


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=18)
    tags: list[str]


async def test_json_schema_response_format_gets_schema_valid_json(client):
    completion = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=USER, response_format=Person
    )

    person = completion.choices[0].message.parsed
    assert isinstance(person, Person)
    assert person.age >= 18


async def test_json_reply_step_sends_that_json(client, fake_provider):
    fake_provider.enqueue(FakeReply.json({"name": "x", "age": 30, "tags": []}))

    completion = await client.chat.completions.parse(
        model="m", messages=USER, response_format=Person
    )

    assert completion.choices[0].message.parsed == Person(name="x", age=30, tags=[])


async def test_embeddings_are_deterministic_with_the_requested_dimension(client, fake_provider):
    first = await client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    again = await client.embeddings.create(model="text-embedding-3-small", input="a b")
    sized = await client.embeddings.create(model="e", input="a b", dimensions=5)
    floats = await client.embeddings.create(model="e", input="a b", encoding_format="float")

    assert len(first.data) == 2
    assert len(first.data[0].embedding) == fake_provider.embedding_dimension
    assert first.data[0].embedding == again.data[0].embedding
    assert first.data[0].embedding != first.data[1].embedding
    assert sum(x * x for x in first.data[0].embedding) == pytest.approx(1.0, rel=1e-5)
    assert len(sized.data[0].embedding) == 5
    assert floats.data[0].embedding == pytest.approx(first.data[0].embedding, rel=1e-6)
    assert first.usage.prompt_tokens == 3
    assert fake_provider.chat_requests == []


async def test_models_are_listed(client):
    models = [model.id async for model in client.models.list()]

    assert "gpt-4o-mini" in models


async def test_a_responder_answers_when_the_queue_is_empty(client, fake_provider):
    seen: list[RecordedRequest] = []

    def responder(request: RecordedRequest) -> str | None:
        seen.append(request)
        return None if "default" in request.messages[-1]["content"] else "from responder"

    fake_provider.responder = responder
    fake_provider.enqueue("from queue")

    answers = [
        (await client.chat.completions.create(model="m", messages=[message]))
        .choices[0]
        .message.content
        for message in (
            {"role": "user", "content": "one"},
            {"role": "user", "content": "two"},
            {"role": "user", "content": "default please"},
        )
    ]

    assert answers == ["from queue", "from responder", "Echo: default please"]
    assert len(seen) == 2


async def test_an_async_responder_is_awaited(client, fake_provider):
    async def responder(request: RecordedRequest) -> FakeReply:
        return FakeReply.text(f"model was {request.model}")

    fake_provider.responder = responder

    completion = await client.chat.completions.create(model="gpt-4.1", messages=USER)

    assert completion.choices[0].message.content == "model was gpt-4.1"


async def test_every_request_is_recorded(client, fake_provider):
    before = time.monotonic()
    await client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.5)
    await client.embeddings.create(model="e", input="x")

    assert len(fake_provider.requests) == 2
    chat, embedding = fake_provider.requests
    assert fake_provider.chat_requests == [chat]
    assert (chat.method, chat.path) == ("POST", "/v1/chat/completions")
    assert chat.headers["Authorization"] == "Bearer sk-test"
    assert chat.headers["authorization"] == "Bearer sk-test"
    assert chat.json["temperature"] == 0.5
    assert chat.messages == USER
    assert chat.stream is False
    assert before <= chat.received_at <= embedding.received_at <= time.monotonic()
    assert embedding.path == "/v1/embeddings"


async def test_latency_is_added_before_every_response(client, fake_provider):
    fake_provider.latency = 0.2

    started = time.perf_counter()
    await client.chat.completions.create(model="m", messages=USER)
    await client.models.list()

    assert time.perf_counter() - started >= 0.4


async def test_stream_chunk_delay_paces_the_chunks(client, fake_provider):
    fake_provider.stream_chunk_delay = 0.05
    fake_provider.enqueue("one two three four")

    started = time.perf_counter()
    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]

    # role chunk, four words, finish chunk: five pauses between six frames
    assert len(chunks) == 6
    assert time.perf_counter() - started >= 5 * 0.05


async def test_unknown_endpoints_answer_404_in_openai_shape(client):
    with pytest.raises(openai.NotFoundError) as caught:
        await client.completions.create(model="m", prompt="x")

    assert "Unknown endpoint" in caught.value.message


def test_plain_httpx_and_the_sync_sdk_work_against_the_thread_server(fake_provider):
    with openai.OpenAI(base_url=fake_provider.openai_base_url, api_key="k", max_retries=0) as sdk:
        completion = sdk.chat.completions.create(model="m", messages=USER)
    response = httpx.get(f"{fake_provider.openai_base_url}/models")

    assert completion.choices[0].message.content.startswith("Echo:")
    assert response.status_code == 200
    assert response.json()["object"] == "list"
    assert len(fake_provider.requests) == 2


async def test_reset_forgets_script_records_and_latency():
    server = FakeProviderServer(latency=0.3, stream_chunk_delay=0.1)
    async with server:
        server.enqueue("x")
        server.responder = lambda request: "y"
        async with httpx.AsyncClient() as http:
            await http.get(f"{server.openai_base_url}/models")

        server.reset()

        assert (server.pending, server.responder, server.requests) == (0, None, [])
        assert (server.latency, server.stream_chunk_delay, server.disconnects) == (0.0, 0.0, 0)


async def test_two_servers_run_side_by_side_on_their_own_ports():
    async with FakeProviderServer() as first, FakeProviderServer() as second:
        assert first.port != second.port
        assert first.url.startswith("http://127.0.0.1:")
        assert first.anthropic_base_url == first.url
        assert first.openai_base_url == f"{first.url}/v1"

    with pytest.raises(RuntimeError, match="not running"):
        _ = first.url


async def test_concurrent_requests_each_consume_exactly_one_step(client, fake_provider):
    fake_provider.latency = 0.02
    fake_provider.enqueue(*(f"answer {i}" for i in range(20)))

    completions = await asyncio.gather(
        *(client.chat.completions.create(model="m", messages=USER) for _ in range(20))
    )

    answers = sorted(c.choices[0].message.content for c in completions)
    assert answers == sorted(f"answer {i}" for i in range(20))
    assert len(fake_provider.chat_requests) == 20
    assert fake_provider.pending == 0
