"""Self-hosted servers' "the prompt does not fit" answers are TokenLimitError.

llama.cpp, vLLM, Ollama and LM Studio each answer an over-long prompt with a plain 400
in words of their own (their real bodies are in the fake server). Each must reach the
caller as `TokenLimitError` (never retried), through the provider a user would pick
for that server, plain and streamed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from gluellm.api import complete, stream_complete
from gluellm.errors import InvalidRequestError, TokenLimitError
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_mock.fake_server import FakeProviderServer, Fault

from .conftest import make_runtime

# Server dialect -> the model string a user of that server would write.
SERVERS = {
    "llamacpp": "llamacpp:qwen2.5-7b-instruct",
    "llamacpp-legacy": "llamacpp:qwen2.5-7b-instruct",
    "vllm": "vllm:meta-llama/Llama-3.1-8B-Instruct",
    "vllm-legacy": "vllm:meta-llama/Llama-3.1-8B-Instruct",
    "ollama": "ollama:llama3.2",
    # any-llm's own lmstudio provider needs the lmstudio SDK; its OpenAI-compatible
    # endpoint is what most people point the openai provider at.
    "lmstudio": "openai:qwen2.5-7b-instruct",
    "lmstudio-mlx": "openai:qwen2.5-7b-instruct",
}


async def ask(server: FakeProviderServer, model: str, *, stream: bool) -> None:
    where = {"base_url": server.openai_base_url, "api_key": "sk-local"}
    if stream:
        async for _ in stream_complete("a very long prompt", model=model, **where):
            pass
    else:
        await complete("a very long prompt", model=model, **where)


@pytest.fixture
async def retrying(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    stamina_plugin = pytest.importorskip("gluellm_plugins_stamina.plugin")
    fresh = make_runtime(retry_min_wait=0.001, retry_max_wait=0.002, retry_max_attempts=3)
    fresh.plugin_manager.register(stamina_plugin, name="stamina")
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


@pytest.mark.usefixtures("retrying")
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("dialect", sorted(SERVERS))
async def test_a_full_context_window_is_a_token_limit_error(
    server: FakeProviderServer, dialect: str, stream: bool
) -> None:
    server.enqueue(Fault.context_length(server=dialect), "never sent")
    with pytest.raises(TokenLimitError) as caught:
        await ask(server, SERVERS[dialect], stream=stream)

    assert "context window" in str(caught.value)
    assert len(server.chat_requests) == 1  # not retried: the same prompt will not fit
    assert server.chat_requests[0].model == SERVERS[dialect].split(":", 1)[1]


@pytest.mark.usefixtures("runtime")
async def test_a_plain_400_that_is_not_about_the_context_stays_invalid_request(
    server: FakeProviderServer,
) -> None:
    server.enqueue(Fault.status(400, message="'response_format.type' must be 'json_schema'"))

    with pytest.raises(InvalidRequestError) as caught:
        await complete("hi", model="llamacpp:m", base_url=server.openai_base_url, api_key="k")

    assert not isinstance(caught.value, TokenLimitError)


@pytest.mark.usefixtures("runtime")
async def test_the_error_type_alone_is_enough(server: FakeProviderServer) -> None:
    # llama.cpp's type says it even when a translation or a proxy rewrote the words.
    reworded = replace(
        Fault.context_length(server="llamacpp"), message="la requête est trop longue"
    )
    server.enqueue(reworded)

    with pytest.raises(TokenLimitError):
        await complete("hi", model="llamacpp:m", base_url=server.openai_base_url, api_key="k")
