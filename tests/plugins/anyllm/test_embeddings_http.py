"""Embeddings over real HTTP: GlueLLM -> retry plugin -> any-llm -> openai SDK -> fake server.

The fake server counts the requests it saw; costs come from the prices plugin and are
checked against genai-prices' own figure for the usage the server reported.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from gluellm import hookimpl
from gluellm.api import GlueLLM, embed
from gluellm.config import Settings
from gluellm.correlation import CORRELATION_HEADER
from gluellm.errors import (
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    TokenLimitError,
)
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm.transport import AnyLLMTransport
from gluellm_plugins_mock.fake_server import FakeProviderServer, Fault
from gluellm_plugins_mock.fake_server.defaults import embedding as server_vector
from gluellm_plugins_prices import plugin as prices_plugin
from gluellm_plugins_prices.pricing import clear_cache
from gluellm_plugins_stamina import plugin as stamina_plugin

MODEL = "openai:text-embedding-3-small"
TEXTS = [f"text number {i}" for i in range(12)]


class OpenAIWithLimit:
    """Serves ``openai`` with an any-llm transport whose embed_batch_limit the test sets."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit

    @hookimpl
    def register_transports(self, register: Callable[..., None]) -> None:
        register("openai", lambda: AnyLLMTransport("openai", embed_batch_limit=self.limit))
        register("anthropic", lambda: AnyLLMTransport("anthropic"))


def genai_price(model: str, prompt_tokens: int) -> float:
    """genai-prices' own figure for an embedding request of ``prompt_tokens``."""
    usage = PriceUsage(input_tokens=prompt_tokens, output_tokens=0)
    return float(calc_price(usage, model, provider_id="openai").total_price)


def make_runtime(limit: int | None = None, *, retries: int = 3, **settings: Any) -> Runtime:
    manager: PluginManager = create_plugin_manager(load_entrypoints=False)
    manager.register(OpenAIWithLimit(limit), name="openai-transport")
    manager.register(stamina_plugin, name="stamina")
    manager.register(prices_plugin, name="prices")
    values: dict[str, Any] = {
        "retry_max_attempts": retries,
        "retry_min_wait": 0,
        "retry_max_wait": 0.05,
        "retry_multiplier": 0,
    }
    values.update(settings)
    return Runtime(manager, settings=Settings(_env_file=None, **values))  # type: ignore[call-arg]


@pytest.fixture
def server(fake_provider_env: FakeProviderServer) -> FakeProviderServer:
    clear_cache()
    return fake_provider_env


@pytest.fixture
async def runtime(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    fresh = make_runtime()
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


async def test_one_text_comes_back_with_usage_cost_and_the_correlation_header(runtime, server):
    result = await embed("Hello, world!", model=MODEL)

    (request,) = server.embedding_requests
    assert request.body["model"] == "text-embedding-3-small"
    assert request.body["input"] == ["Hello, world!"]
    assert request.headers[CORRELATION_HEADER] == result.correlation_id
    assert result.count == 1
    assert result.dimension == server.embedding_dimension
    assert result.embeddings[0] == pytest.approx(server_vector("Hello, world!", 16), rel=1e-6)
    assert result.tokens_used == 2  # the server counts words
    assert result.model == MODEL
    assert result.estimated_cost_usd == genai_price("text-embedding-3-small", 2)


async def test_a_list_longer_than_the_limit_is_split_and_comes_back_in_order(server):
    server.embedding_input_limit = 5
    runtime = make_runtime(limit=5)
    with use_runtime(runtime):
        result = await embed(TEXTS, model=MODEL)
    await runtime.aclose()

    sizes = sorted(len(r.body["input"]) for r in server.embedding_requests)
    assert sizes == [2, 5, 5]
    assert result.count == 12
    for text, vector in zip(TEXTS, result.embeddings, strict=True):
        assert vector == pytest.approx(server_vector(text, 16), rel=1e-6)
    assert result.tokens_used == 3 * 12
    expected = sum(
        genai_price("text-embedding-3-small", 3 * len(r.body["input"]))
        for r in server.embedding_requests
    )
    assert result.estimated_cost_usd == pytest.approx(expected, rel=1e-12)
    correlation = {r.headers[CORRELATION_HEADER] for r in server.embedding_requests}
    assert correlation == {result.correlation_id}


async def test_a_transport_limit_above_the_servers_gets_the_400_once(server):
    server.embedding_input_limit = 5
    runtime = make_runtime(limit=None)  # OpenAI's 2048: one request of 12
    with use_runtime(runtime), pytest.raises(InvalidRequestError, match="HTTP 400"):
        await embed(TEXTS, model=MODEL)
    await runtime.aclose()

    assert len(server.embedding_requests) == 1  # an invalid request is never retried


def test_openai_embeds_at_most_2048_texts_per_request():
    assert AnyLLMTransport("openai").embed_batch_limit == 2048
    assert AnyLLMTransport("cohere").embed_batch_limit == 96
    assert AnyLLMTransport("openai", embed_batch_limit=7).embed_batch_limit == 7


async def test_a_429_is_retried_once_then_succeeds(runtime, server):
    server.enqueue(Fault.status(429, retry_after=0.01), None)

    result = await embed(["a", "b"], model=MODEL)

    assert len(server.embedding_requests) == 2
    assert result.count == 2
    assert result.estimated_cost_usd == genai_price("text-embedding-3-small", 2)


async def test_an_authentication_error_is_classified_and_not_retried(runtime, server):
    server.enqueue(Fault.status(401))

    with pytest.raises(AuthenticationError, match="HTTP 401"):
        await embed("x", model=MODEL)

    assert len(server.embedding_requests) == 1


async def test_each_attempt_is_bounded_by_the_timeout(server):
    runtime = make_runtime(retries=1)
    with use_runtime(runtime):
        await embed("warm up", model=MODEL)  # SDK import and client outside the timing
        server.enqueue(Fault.delay(3.0))
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await embed("slow", model=MODEL, timeout=0.3)
        elapsed = time.monotonic() - started
    await runtime.aclose()

    assert elapsed < 2.0  # the attempt was cut at its timeout, not at the server's 3 s
    assert len(server.embedding_requests) == 2


@pytest.mark.parametrize("spelling", ["openai/text-embedding-3-small", MODEL])
async def test_both_model_spellings_reach_the_model(runtime, server, spelling):
    result = await embed("x", model=spelling)

    assert server.embedding_requests[0].body["model"] == "text-embedding-3-small"
    assert result.model == spelling
    assert result.estimated_cost_usd == genai_price("text-embedding-3-small", 1)


@pytest.mark.parametrize(
    "configured", ["openai/text-embedding-3-large", "openai:text-embedding-3-large"]
)
async def test_the_default_embedding_model_setting_takes_effect(server, monkeypatch, configured):
    monkeypatch.setenv("GLUELLM_DEFAULT_EMBEDDING_MODEL", configured)
    runtime = make_runtime()
    with use_runtime(runtime):
        result = await embed("x")
        client_result = await GlueLLM().embed("y")
    await runtime.aclose()

    assert [r.body["model"] for r in server.embedding_requests] == ["text-embedding-3-large"] * 2
    assert result.model == client_result.model == configured
    assert result.estimated_cost_usd == genai_price("text-embedding-3-large", 1)


async def test_the_clients_embedding_model_and_extra_params_are_sent(runtime, server):
    client = GlueLLM(embedding_model="openai:text-embedding-3-large")

    result = await client.embed(["a", "b"], extra_params={"dimensions": 4})

    (request,) = server.embedding_requests
    assert request.body["model"] == "text-embedding-3-large"
    assert request.body["dimensions"] == 4
    assert result.dimension == 4


async def test_a_provider_without_an_embedding_api_says_so_before_sending(runtime, server):
    with pytest.raises(ConfigurationError, match="no embedding API"):
        await embed("x", model="anthropic:claude-3-5-haiku-latest")

    assert server.requests == []


async def test_base64_asked_explicitly_is_decoded_to_the_same_floats(runtime, server):
    packed = await embed(["a b", "c"], model=MODEL, extra_params={"encoding_format": "base64"})
    plain = await embed(["a b", "c"], model=MODEL, extra_params={"encoding_format": "float"})

    assert [r.body["encoding_format"] for r in server.embedding_requests] == ["base64", "float"]
    for left, right in zip(packed.embeddings, plain.embeddings, strict=True):
        assert left == pytest.approx(right, rel=1e-6)


async def test_a_text_longer_than_the_model_takes_is_a_token_limit_error(runtime, server):
    server.enqueue(Fault.context_length())

    with pytest.raises(TokenLimitError):
        await embed("a very long text", model=MODEL)

    assert len(server.embedding_requests) == 1  # never retried
