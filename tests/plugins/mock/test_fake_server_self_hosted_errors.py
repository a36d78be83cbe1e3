"""Self-hosted servers' "context window exceeded" answers, with their real bodies."""

from __future__ import annotations

import httpx
import openai
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, Fault
from gluellm_plugins_mock.fake_server.errors import self_hosted_context_error
from gluellm_plugins_mock.fake_server.steps import CONTEXT_SERVERS

USER = [{"role": "user", "content": "hi"}]

# What each server's body says, in its own words.
WORDING = {
    "llamacpp": "request (19417 tokens) exceeds the available context size (2048 tokens)",
    "llamacpp-legacy": "the request exceeds the available context size",
    "vllm": "is longer than the maximum model length of 2048",
    "vllm-legacy": "This model's maximum context length is 2048 tokens",
    "ollama": "the input length exceeds the context length",
    "lmstudio": "the model is loaded with context length of only 2048 tokens",
    "lmstudio-mlx": "Context size has been exceeded",
}


def test_every_server_has_a_wording_here() -> None:
    assert set(WORDING) == set(CONTEXT_SERVERS)


@pytest.mark.parametrize("server", CONTEXT_SERVERS)
async def test_the_server_answers_a_plain_400_with_its_own_body(
    fake_provider: FakeProviderServer, server: str
) -> None:
    fake_provider.enqueue(Fault.context_length(server=server))

    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake_provider.openai_base_url}/chat/completions",
            json={"model": "m", "messages": USER},
        )

    assert response.status_code == 400
    assert WORDING[server] in response.text
    assert response.json() == self_hosted_context_error(server)


async def test_llamacpp_reports_its_error_type_and_counts(fake_provider: FakeProviderServer):
    fake_provider.enqueue(Fault.context_length(server="llamacpp"))

    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="none", max_retries=0
    ) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=USER)

    assert caught.value.type == "exceed_context_size_error"
    assert caught.value.body["n_prompt_tokens"] == 19417
    assert caught.value.body["n_ctx"] == 2048


async def test_lmstudio_sends_the_error_as_a_bare_string(fake_provider: FakeProviderServer):
    fake_provider.enqueue(Fault.context_length(server="lmstudio"))

    async with openai.AsyncOpenAI(
        base_url=fake_provider.openai_base_url, api_key="none", max_retries=0
    ) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=USER)

    assert isinstance(caught.value.body, str)
    assert "context length of only 2048 tokens" in caught.value.body


def test_a_message_keeps_the_bodys_shape() -> None:
    assert self_hosted_context_error("lmstudio", "too long") == {"error": "too long"}
    assert self_hosted_context_error("vllm-legacy", "too long")["message"] == "too long"
    body = self_hosted_context_error("llamacpp", "too long")
    assert body["error"]["message"] == "too long"
    assert body["error"]["type"] == "exceed_context_size_error"


def test_an_unknown_server_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="llamacpp"):
        Fault.context_length(server="textgen")
