"""The fake server's /v1/embeddings speaks OpenAI's wire format to the real openai SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault
from gluellm_plugins_mock.fake_server.embeddings_wire import INVALID_INPUT, input_count


@pytest.fixture
async def client(fake_provider: FakeProviderServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0
    ) as client:
        yield client


async def test_the_sdk_asks_for_base64_and_gets_the_same_vectors_as_floats(client, fake_provider):
    default = await client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    floats = await client.embeddings.create(
        model="text-embedding-3-small", input=["a b", "c"], encoding_format="float"
    )

    sent = [r.body.get("encoding_format") for r in fake_provider.embedding_requests]
    assert sent == ["base64", "float"]  # the openai SDK's default is base64
    assert [d.index for d in default.data] == [0, 1]
    for packed, plain in zip(default.data, floats.data, strict=True):
        assert packed.embedding == pytest.approx(plain.embedding, rel=1e-6)
    assert default.object == "list"
    assert default.model == "text-embedding-3-small"
    assert (default.usage.prompt_tokens, default.usage.total_tokens) == (3, 3)


async def test_a_single_string_input_gives_one_vector_of_the_asked_dimension(client, fake_provider):
    result = await client.embeddings.create(
        model="text-embedding-3-small", input="hello world", dimensions=7
    )

    assert len(result.data) == 1
    assert len(result.data[0].embedding) == 7
    assert fake_provider.embedding_requests[0].body["input"] == "hello world"


async def test_more_inputs_than_the_limit_get_openais_400(client, fake_provider):
    fake_provider.embedding_input_limit = 3

    ok = await client.embeddings.create(model="text-embedding-3-small", input=list("abc"))
    with pytest.raises(openai.BadRequestError) as caught:
        await client.embeddings.create(model="text-embedding-3-small", input=list("abcd"))

    assert len(ok.data) == 3
    error = caught.value
    assert error.status_code == 400
    assert error.body == {
        "message": INVALID_INPUT,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert error.response.headers["x-request-id"].startswith("req_")
    assert len(fake_provider.embedding_requests) == 2


def test_reset_restores_openais_input_limit(fake_provider):
    fake_provider.embedding_input_limit = 1
    fake_provider.reset()
    assert fake_provider.embedding_input_limit == 2048


async def test_a_scripted_429_carries_retry_after_then_the_next_request_succeeds(
    client, fake_provider
):
    fake_provider.enqueue(Fault.status(429, retry_after=0.25), None)

    with pytest.raises(openai.RateLimitError) as caught:
        await client.embeddings.create(model="text-embedding-3-small", input="x")
    result = await client.embeddings.create(model="text-embedding-3-small", input="x")

    assert caught.value.response.headers["retry-after"] == "0.25"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    assert len(result.data) == 1
    assert len(fake_provider.embedding_requests) == 2
    assert fake_provider.chat_requests == []
    assert fake_provider.pending == 0


async def test_server_errors_and_dropped_connections_play_for_embeddings(client, fake_provider):
    fake_provider.enqueue(Fault.status(503), Fault.drop_connection(), Fault.delay(0.01))

    with pytest.raises(openai.InternalServerError):
        await client.embeddings.create(model="text-embedding-3-small", input="x")
    with pytest.raises(openai.APIConnectionError):
        await client.embeddings.create(model="text-embedding-3-small", input="x")
    delayed = await client.embeddings.create(model="text-embedding-3-small", input="x")

    assert len(delayed.data) == 1
    assert len(fake_provider.embedding_requests) == 3


async def test_a_chat_reply_queued_for_an_embedding_is_a_script_error(client, fake_provider):
    fake_provider.enqueue(FakeReply.text("meant for a chat"))

    with pytest.raises(openai.InternalServerError) as caught:
        await client.embeddings.create(model="text-embedding-3-small", input="x")

    assert "could not play its script" in caught.value.message
    assert len(fake_provider.errors) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": "x"}, "you must provide a model parameter"),
        ({"model": "text-embedding-3-small"}, "'input' is a required property"),
        ({"model": "text-embedding-3-small", "input": ""}, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": []}, INVALID_INPUT),
        ({"model": "text-embedding-3-small", "input": ["a", ""]}, INVALID_INPUT),
        (
            {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8},
            "This model does not support specifying dimensions.",
        ),
        (
            {"model": "text-embedding-3-small", "input": "x", "encoding_format": "int8"},
            "'$.encoding_format' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
        ),
    ],
)
async def test_invalid_requests_get_openais_400_bodies(fake_provider, body, message):
    async with httpx.AsyncClient(base_url=fake_provider.openai_base_url) as http:
        response = await http.post("/embeddings", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert fake_provider.pending == 0  # a rejected request consumes no scripted step


@pytest.mark.parametrize(
    ("raw", "count"),
    [("a", 1), (["a", "b"], 2), ([1, 2, 3], 1), ([[1, 2], [3]], 2)],
)
def test_token_lists_count_as_one_input_each(raw, count):
    assert input_count(raw) == count
