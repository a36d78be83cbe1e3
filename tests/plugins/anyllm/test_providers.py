"""Provider registration, keys, base URLs, OpenAI-compatible servers, client reuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from any_llm import AnyLLM

from gluellm.api import complete
from gluellm.errors import AuthenticationError, ConfigurationError
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm.http_stack import STACK_ENV
from gluellm_plugins_anyllm.providers import PROVIDERS
from gluellm_plugins_anyllm.transport import AnyLLMTransport
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

from .conftest import chat_call, make_runtime


def test_every_any_llm_provider_is_registered() -> None:
    assert set(PROVIDERS) == set(AnyLLM.get_supported_providers())
    assert len(PROVIDERS) == len(set(PROVIDERS))


def test_runtime_lists_the_providers(runtime: Runtime) -> None:
    providers = runtime.transport_providers()
    assert set(PROVIDERS) <= set(providers)
    assert providers["openai"] == "anyllm"


async def test_unknown_provider_lists_installed_transports(runtime: Runtime) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await complete("hi", model="nosuchprovider:model")
    message = str(caught.value)
    assert "nosuchprovider" in message
    assert "openai" in message
    assert "anthropic" in message


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize(
    ("model", "variables"),
    [
        ("openai:gpt-4o-mini", ("GLUELLM_OPENAI_API_KEY", "OPENAI_API_KEY")),
        (
            "anthropic:claude-3-5-sonnet-20241022",
            ("GLUELLM_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
        ),
        ("xai:grok-beta", ("GLUELLM_XAI_API_KEY", "XAI_API_KEY")),
        ("deepseek:deepseek-chat", ("GLUELLM_DEEPSEEK_API_KEY", "DEEPSEEK_API_KEY")),
    ],
)
async def test_missing_key_names_the_variables(
    server: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    variables: tuple[str, str],
) -> None:
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthenticationError) as caught:
        await complete("hi", model=model)
    for name in variables:
        assert name in str(caught.value)
    assert server.chat_requests == []


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize("provider", ["mistral", "gemini"])
async def test_provider_without_its_sdk_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv(f"{provider.upper()}_API_KEY", "k-test")
    with pytest.raises(ConfigurationError) as caught:
        await complete("hi", model=f"{provider}:some-model")
    assert f"any-llm-sdk[{provider}]" in str(caught.value)


async def test_gluellm_prefixed_key_wins_over_the_provider_variable(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime's settings carry GLUELLM_OPENAI_API_KEY (read when they are built);
    # OPENAI_API_KEY (sk-test, from the fixture) is only the fallback.
    monkeypatch.setenv("GLUELLM_OPENAI_API_KEY", "sk-gluellm")
    runtime = make_runtime()
    try:
        with use_runtime(runtime):
            await complete("hi", model="openai:gpt-4o-mini")
            await complete("hi", model="openai:gpt-4o-mini", api_key="sk-explicit")
    finally:
        await runtime.aclose()
    with use_runtime(make_runtime(openai_api_key="sk-from-settings")) as configured:
        await complete("hi", model="openai:gpt-4o-mini")
        await configured.aclose()
    keys = [r.headers["Authorization"] for r in server.chat_requests]
    assert keys == ["Bearer sk-gluellm", "Bearer sk-explicit", "Bearer sk-from-settings"]


@pytest.mark.usefixtures("runtime")
async def test_xai_goes_through_the_openai_compatible_path(server: FakeProviderServer) -> None:
    server.enqueue(FakeReply.text("Grok here."))
    result = await complete("hi", model="xai:grok-beta")
    assert result.final_response == "Grok here."
    request = server.chat_requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer xai-test"
    assert request.model == "grok-beta"


def test_xai_default_base_url() -> None:
    from gluellm_plugins_anyllm.providers import COMPATIBLE_ENDPOINTS

    assert COMPATIBLE_ENDPOINTS["xai"].default_base == "https://api.x.ai/v1"


@pytest.mark.usefixtures("runtime")
@pytest.mark.parametrize(
    ("provider", "variable", "value"),
    [
        ("vllm", "VLLM_API_BASE", "{openai}"),
        ("llamacpp", "LLAMACPP_API_BASE", "{openai}"),
        ("ollama", "OLLAMA_HOST", "{hostport}"),  # Ollama's own variable, host:port
        ("ollama", "OLLAMA_BASE_URL", "{openai}"),
    ],
)
async def test_local_openai_compatible_servers(
    server: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    variable: str,
    value: str,
) -> None:
    base = value.format(openai=server.openai_base_url, hostport=f"127.0.0.1:{server.port}")
    monkeypatch.setenv(variable, base)
    server.enqueue(FakeReply.text("local answer", usage=(4, 2)))
    result = await complete("hi", model=f"{provider}:llama3:8b")  # no key needed
    assert result.final_response == "local answer"
    assert result.tokens_used == {"prompt": 4, "completion": 2, "total": 6}
    assert server.chat_requests[0].model == "llama3:8b"


@pytest.mark.usefixtures("runtime")
async def test_base_url_argument_wins(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    result = await complete("hi", model="openai:gpt-4o-mini", base_url=server.openai_base_url)
    assert result.final_response
    assert len(server.chat_requests) == 1


async def test_clients_are_reused_per_key_and_closed(server: FakeProviderServer) -> None:
    transport = AnyLLMTransport("openai")
    await transport.complete(chat_call())
    await transport.complete(chat_call())
    await transport.complete(chat_call(api_key="sk-other"))
    pools = list(transport._pool._by_loop.values())
    assert len(pools) == 1
    clients = list(pools[0].values())
    assert len(clients) == 2  # one per key, reused across calls
    assert all(c.client.max_retries == 0 for c in clients)  # SDK retries off
    await transport.aclose()
    assert all(c.client.is_closed() for c in clients)
    assert transport._pool._by_loop.get(__import__("asyncio").get_running_loop()) is None


@pytest.mark.parametrize(
    ("stack", "expected"), [("aiohttp", "AiohttpTransport"), ("httpx", "AsyncHTTPTransport")]
)
async def test_http_stack_choice(
    server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, stack: str, expected: str
) -> None:
    monkeypatch.setenv(STACK_ENV, stack)
    transport = AnyLLMTransport("openai")
    try:
        await transport.complete(chat_call())
        (clients,) = transport._pool._by_loop.values()
        (llm,) = clients.values()
        assert type(llm.client._client._transport).__name__ == expected
    finally:
        await transport.aclose()


def test_registering_transports_imports_no_provider_sdk(tmp_path: object) -> None:
    code = (
        "import sys, gluellm\n"
        "from gluellm.plugins import create_plugin_manager\n"
        "from gluellm.runtime import Runtime\n"
        "from gluellm_plugins_anyllm import plugin\n"
        "pm = create_plugin_manager(load_entrypoints=False); pm.register(plugin)\n"
        "providers = Runtime(pm).transport_providers()\n"
        "sdks = ('any_llm', 'openai', 'anthropic', 'httpx', 'aiohttp')\n"
        "heavy = [m for m in sdks if m in sys.modules]\n"
        "print(len(providers), heavy)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUELLM_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split(maxsplit=1)
    assert int(out[0]) == len(PROVIDERS)
    assert json.loads(out[1].replace("'", '"')) == []


@pytest.mark.usefixtures("runtime", "stack")
@pytest.mark.parametrize("model", ["deepseek:deepseek-chat", "meta:Llama-4-Maverick"])
async def test_providers_whose_sdk_takes_only_its_own_http_client_still_work(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(FakeReply.text("fine"))
    result = await complete("hi", model=model, base_url=server.openai_base_url, api_key="k-1")
    assert result.final_response == "fine"
    assert len(server.chat_requests) == 1
