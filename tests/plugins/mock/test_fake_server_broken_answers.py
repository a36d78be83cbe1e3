"""Answers that are not what the protocol promises reach the official SDKs as in production.

A stream that ends cleanly before its answer does, an HTML page instead of the API's
JSON, a gateway that repeats the key it got, and the connection bookkeeping (peers,
open connections) that lets tests see reuse and leaks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import anthropic
import httpx
import openai
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def oai(fake_provider: FakeProviderServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def claude(fake_provider: FakeProviderServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=fake_provider.anthropic_base_url, api_key="sk-ant-test", max_retries=0
    ) as client:
        yield client


async def wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_an_openai_stream_that_ends_early_has_no_finish_reason_and_no_done(
    fake_provider: FakeProviderServer,
) -> None:
    fake_provider.enqueue(Fault.end_stream_early(after_chunks=3, then="alpha beta gamma delta"))
    body = {"model": "m", "messages": USER, "stream": True}

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.openai_base_url}/chat/completions", json=body)

    # A complete HTTP response (no transport error), but not a complete answer.
    assert response.status_code == 200
    frames = [f for f in response.text.split("\n\n") if f]
    assert len(frames) == 3
    assert "[DONE]" not in response.text
    assert '"finish_reason":null' in frames[-1]
    assert fake_provider.disconnects == 0


async def test_the_openai_sdk_ends_such_a_stream_quietly(oai: openai.AsyncOpenAI, fake_provider):
    fake_provider.enqueue(Fault.end_stream_early(after_chunks=3))
    stream = await oai.chat.completions.create(model="m", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]

    # Why clients must check: the SDK raises nothing, and no chunk says the answer ended.
    assert len(chunks) == 3
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks)


async def test_an_anthropic_stream_that_ends_early_has_no_message_stop(
    claude: anthropic.AsyncAnthropic, fake_provider
) -> None:
    fake_provider.enqueue(Fault.end_stream_early(after_chunks=4, then="alpha beta gamma"))
    stream = await claude.messages.create(model="m", max_tokens=10, messages=USER, stream=True)
    kinds = [event.type async for event in stream]

    assert kinds == ["message_start", "content_block_start", "content_block_delta"]


async def test_a_plain_request_that_ends_early_gets_truncated_json(fake_provider):
    fake_provider.enqueue(Fault.end_stream_early())
    body = {"model": "m", "messages": USER}

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.openai_base_url}/chat/completions", json=body)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


@pytest.mark.parametrize("stream", [False, True])
async def test_html_page_answers_200_with_a_web_page(fake_provider, stream: bool) -> None:
    fake_provider.enqueue(Fault.html_page())
    body = {"model": "m", "messages": USER, "stream": stream}

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.openai_base_url}/chat/completions", json=body)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")


async def test_raw_sends_any_body_with_any_status(fake_provider):
    fake_provider.enqueue(Fault.raw(b"upstream said no", content_type="text/plain", status=502))

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.url}/v1/messages", json={"model": "m"})

    assert (response.status_code, response.text) == (502, "upstream said no")


async def test_echo_key_repeats_the_openai_key_in_the_error(oai, fake_provider):
    fake_provider.enqueue(Fault.echo_key())

    with pytest.raises(openai.AuthenticationError) as caught:
        await oai.chat.completions.create(model="m", messages=USER)

    assert "Invalid API key provided: sk-test" in str(caught.value)


async def test_echo_key_repeats_the_anthropic_key_with_any_status(claude, fake_provider):
    fake_provider.enqueue(Fault.echo_key(status=500))

    with pytest.raises(anthropic.InternalServerError) as caught:
        await claude.messages.create(model="m", max_tokens=10, messages=USER)

    assert "Invalid API key provided: sk-ant-test" in str(caught.value)


async def test_requests_over_one_connection_share_a_peer(oai, fake_provider):
    await oai.chat.completions.create(model="m", messages=USER)
    await oai.chat.completions.create(model="m", messages=USER)
    async with httpx.AsyncClient() as other:
        await other.post(f"{fake_provider.openai_base_url}/chat/completions", json={"model": "m"})

    first, second, third = (request.peer for request in fake_provider.requests)
    assert first is not None
    assert first == second
    assert third != first


async def test_open_peers_lists_a_clients_connection_until_it_closes(fake_provider):
    body = {"model": "m", "messages": USER}
    client = openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0
    )
    await client.chat.completions.create(**body)
    mine = fake_provider.requests[0].peer
    await wait_for(lambda: mine in fake_provider.open_peers)
    assert fake_provider.open_connections >= 1

    await client.close()

    await wait_for(lambda: mine not in fake_provider.open_peers)


def test_a_stopped_server_has_no_open_connections() -> None:
    server = FakeProviderServer()
    assert (server.open_connections, server.open_peers) == (0, set())


async def test_end_stream_early_then_a_scripted_reply_sends_its_tool_calls_in_part(fake_provider):
    reply = FakeReply.tool_calls(("get_weather", {"location": "Paris"}))
    fake_provider.enqueue(Fault.end_stream_early(after_chunks=2, then=reply))
    body = {"model": "m", "messages": USER, "stream": True}

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.openai_base_url}/chat/completions", json=body)

    assert "get_weather" in response.text
    assert "tool_calls" in response.text
    assert '"finish_reason":"tool_calls"' not in response.text
