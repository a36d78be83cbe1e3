"""Injected faults reach the official SDKs as the errors real providers cause."""

from __future__ import annotations

import asyncio
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


async def ask_openai(client: openai.AsyncOpenAI, **kwargs):
    return await client.chat.completions.create(model="gpt-4o-mini", messages=USER, **kwargs)


async def ask_claude(client: anthropic.AsyncAnthropic, **kwargs):
    return await client.messages.create(model="m", max_tokens=10, messages=USER, **kwargs)


async def wait_for(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, openai.BadRequestError, None),
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, None),
        (404, openai.NotFoundError, "model_not_found"),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (500, openai.InternalServerError, None),
        (503, openai.InternalServerError, None),
    ],
)
async def test_openai_status_faults_map_to_sdk_errors(oai, fake_provider, status, error, code):
    fake_provider.enqueue(Fault.status(status))

    with pytest.raises(error) as caught:
        await ask_openai(oai)

    assert caught.value.status_code == status
    assert caught.value.code == code
    assert caught.value.body["message"]  # the SDK unwraps {"error": {...}}
    assert set(caught.value.response.json()["error"]) == {"message", "type", "param", "code"}
    assert caught.value.request_id.startswith("req_")
    assert len(fake_provider.chat_requests) == 1


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_anthropic_status_faults_map_to_sdk_errors(
    claude, fake_provider, status, error, kind
):
    fake_provider.enqueue(Fault.status(status))

    with pytest.raises(error) as caught:
        await ask_claude(claude)

    body = caught.value.response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert caught.value.request_id.startswith("req_")
    assert len(fake_provider.chat_requests) == 1


async def test_openai_rate_limit_carries_retry_after(oai, fake_provider):
    fake_provider.enqueue(Fault.status(429, retry_after=1.5, message="slow down"))

    with pytest.raises(openai.RateLimitError) as caught:
        await ask_openai(oai)

    headers = caught.value.response.headers
    assert headers["retry-after"] == "1.5"
    assert headers["retry-after-ms"] == "1500"
    assert caught.value.body["message"] == "slow down"


async def test_anthropic_rate_limit_carries_retry_after(claude, fake_provider):
    fake_provider.enqueue(Fault.status(429, retry_after=2))

    with pytest.raises(anthropic.RateLimitError) as caught:
        await ask_claude(claude)

    assert caught.value.response.headers["retry-after"] == "2"


async def test_the_sdks_own_retry_honours_the_fault_then_succeeds(fake_provider):
    fake_provider.enqueue(Fault.status(429, retry_after=0.1), "after the wait")

    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=1
    ) as client:
        completion = await ask_openai(client)

    assert completion.choices[0].message.content == "after the wait"
    first, second = fake_provider.chat_requests
    assert second.received_at - first.received_at >= 0.1


async def test_context_length_faults(oai, claude, fake_provider):
    fake_provider.enqueue(Fault.context_length(), Fault.context_length())

    with pytest.raises(openai.BadRequestError) as from_openai:
        await ask_openai(oai)
    with pytest.raises(anthropic.BadRequestError) as from_anthropic:
        await ask_claude(claude)

    assert from_openai.value.code == "context_length_exceeded"
    assert from_openai.value.param == "messages"
    assert from_anthropic.value.body["error"]["type"] == "invalid_request_error"
    assert from_anthropic.value.body["error"]["message"].startswith("prompt is too long: ")


async def test_a_status_fault_on_a_stream_request_fails_before_streaming(oai, fake_provider):
    fake_provider.enqueue(Fault.status(429, retry_after=1))

    with pytest.raises(openai.RateLimitError):
        await ask_openai(oai, stream=True)


async def test_delay_waits_then_plays_its_step(oai, fake_provider):
    fake_provider.enqueue(Fault.delay(0.2, then=FakeReply.text("late")))

    started = time.perf_counter()
    completion = await ask_openai(oai)

    assert time.perf_counter() - started >= 0.2
    assert completion.choices[0].message.content == "late"


async def test_delay_can_precede_another_fault(oai, fake_provider):
    fake_provider.enqueue(Fault.delay(0.05, then=Fault.status(500)))

    with pytest.raises(openai.InternalServerError):
        await ask_openai(oai)


async def test_a_client_timeout_during_a_delay_counts_as_a_disconnect(oai, fake_provider):
    fake_provider.enqueue(Fault.delay(5))

    with pytest.raises(openai.APITimeoutError):
        await ask_openai(oai, timeout=0.2)

    await wait_for(lambda: fake_provider.disconnects == 1)


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_dropped_connection_is_a_connection_error(oai, claude, fake_provider, api):
    fake_provider.enqueue(Fault.drop_connection(), "next one works")

    if api == "openai":
        with pytest.raises(openai.APIConnectionError):
            await ask_openai(oai)
        assert (await ask_openai(oai)).choices[0].message.content == "next one works"
    else:
        with pytest.raises(anthropic.APIConnectionError):
            await ask_claude(claude)
        assert (await ask_claude(claude)).content[0].text == "next one works"
    assert fake_provider.disconnects == 0  # the server hung up, not the client


async def test_cut_stream_delivers_some_chunks_then_fails(oai, fake_provider):
    fake_provider.enqueue(Fault.cut_stream(after_chunks=3))

    received: list[str] = []

    async def read() -> None:
        async for chunk in await ask_openai(oai, stream=True):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIConnectionError):
        await read()

    # the role chunk, then two words of the default long text
    assert "".join(received) == "word1 word2"


async def test_cut_stream_with_a_scripted_reply_on_anthropic(claude, fake_provider):
    fake_provider.enqueue(Fault.cut_stream(after_chunks=4, then="alpha beta gamma delta"))

    texts: list[str] = []

    async def read() -> None:
        async with claude.messages.stream(model="m", max_tokens=10, messages=USER) as stream:
            async for text in stream.text_stream:
                texts.append(text)

    # the anthropic SDK lets httpx's error through mid-stream (openai wraps it)
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        await read()

    # message_start, ping, content_block_start, then one text delta
    assert texts == ["alpha"]


async def test_cut_stream_on_a_non_stream_request_is_a_connection_error(oai, fake_provider):
    fake_provider.enqueue(Fault.cut_stream())

    with pytest.raises(openai.APIConnectionError):
        await ask_openai(oai)


async def test_a_client_leaving_a_stream_early_counts_as_a_disconnect(oai, fake_provider):
    fake_provider.stream_chunk_delay = 0.02
    fake_provider.enqueue(FakeReply.text(" ".join(["word"] * 200)))

    stream = await ask_openai(oai, stream=True)
    async for _ in stream:
        break
    await stream.close()

    await wait_for(lambda: fake_provider.disconnects == 1)


async def test_an_httpx_client_leaving_a_stream_counts_as_a_disconnect(fake_provider):
    fake_provider.stream_chunk_delay = 0.02
    body = {"model": "m", "max_tokens": 10, "messages": USER, "stream": True}

    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", f"{fake_provider.url}/v1/messages", json=body) as response,
    ):
        async for _ in response.aiter_bytes():
            break

    await wait_for(lambda: fake_provider.disconnects == 1)
    assert fake_provider.chat_requests[0].stream is True


async def test_a_finished_stream_is_not_a_disconnect(oai, fake_provider):
    stream = await ask_openai(oai, stream=True)
    _ = [chunk async for chunk in stream]
    await ask_openai(oai)
    await asyncio.sleep(0.05)

    assert fake_provider.disconnects == 0


async def test_a_broken_responder_is_reported_as_a_500(oai, fake_provider):
    def responder(request):
        raise ValueError("oops in the test script")

    fake_provider.responder = responder

    with pytest.raises(openai.InternalServerError, match="oops in the test script"):
        await ask_openai(oai)
    assert isinstance(fake_provider.errors[0], ValueError)


async def test_an_invalid_step_is_reported_as_a_500(oai, fake_provider):
    fake_provider.enqueue(42)

    with pytest.raises(openai.InternalServerError, match="a step must be"):
        await ask_openai(oai)


async def test_stream_error_reports_the_providers_error_inside_an_openai_stream(oai, fake_provider):
    fake_provider.enqueue(
        Fault.stream_error(after_chunks=2, status=500, message="engine fell over")
    )
    received: list[str] = []

    async def read() -> None:
        async for chunk in await ask_openai(oai, stream=True):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError, match="engine fell over"):
        await read()
    assert "".join(received) == "Echo:"


async def test_stream_error_sends_anthropics_error_event(claude, fake_provider):
    fake_provider.enqueue(Fault.stream_error(after_chunks=4, status=529, then="alpha beta"))
    texts: list[str] = []

    async def read() -> None:
        async with claude.messages.stream(model="m", max_tokens=10, messages=USER) as stream:
            async for text in stream.text_stream:
                texts.append(text)

    with pytest.raises(anthropic.APIStatusError) as caught:
        await read()
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert texts == ["alpha"]


async def test_stream_error_on_a_plain_request_is_the_http_error(oai, fake_provider):
    fake_provider.enqueue(Fault.stream_error(status=503))

    with pytest.raises(openai.InternalServerError):
        await ask_openai(oai)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
async def test_a_body_that_is_not_json_is_rejected_without_using_the_script(fake_provider, path):
    fake_provider.enqueue("kept for later")

    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_provider.url}{path}", content=b"{not json")

    assert response.status_code == 400
    assert "could not parse the JSON body" in response.text
    assert fake_provider.pending == 1
    assert fake_provider.requests[0].json is None
