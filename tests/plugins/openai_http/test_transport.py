"""The openai-http plugin: opting in, endpoints and keys, cold start, loops, the pipeline."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import warnings

import pytest

from gluellm.api import complete, embed, stream_complete
from gluellm.config import Settings
from gluellm.errors import AuthenticationError, ConfigurationError, RateLimitError
from gluellm.plugins import PluginConflictWarning, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_mock.fake_server import FakeReply, Fault
from gluellm_plugins_openai_http import plugin as openai_http_plugin
from gluellm_plugins_openai_http.endpoints import resolve
from gluellm_plugins_openai_http.transport import OpenAIHTTPTransport


def make_runtime(*plugins: tuple[object, str], **settings) -> Runtime:
    manager = create_plugin_manager(load_entrypoints=False)
    for plugin, name in plugins:
        manager.register(plugin, name=name)
    return Runtime(manager, settings=Settings(_env_file=None, **settings))


BOTH = ((anyllm_plugin, "anyllm"), (openai_http_plugin, "openai-http"))


def test_openai_http_is_served_and_openai_stays_on_any_llm_by_default(monkeypatch):
    monkeypatch.delenv("GLUELLM_OPENAI_HTTP_PROVIDERS", raising=False)
    runtime = make_runtime(*BOTH)
    providers = runtime.transport_providers()
    assert providers["openai-http"] == "openai-http"
    assert providers["openai"] == "anyllm"
    assert isinstance(runtime.transport_for("openai-http"), OpenAIHTTPTransport)


@pytest.mark.parametrize("order", [BOTH, BOTH[::-1]], ids=["anyllm-first", "anyllm-last"])
def test_opted_in_providers_move_to_the_lean_transport_without_a_warning(monkeypatch, order):
    monkeypatch.setenv("GLUELLM_OPENAI_HTTP_PROVIDERS", " OpenAI, vllm ,,")
    runtime = make_runtime(*order)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginConflictWarning)
        providers = runtime.transport_providers()
    assert providers["openai"] == "openai-http"
    assert providers["vllm"] == "openai-http"
    assert providers["anthropic"] == "anyllm"
    assert runtime.transport_for("vllm").provider == "vllm"


async def test_complete_and_stream_through_the_pipeline_on_an_opted_in_provider(
    monkeypatch, fake_provider_env
):
    monkeypatch.setenv("GLUELLM_OPENAI_HTTP_PROVIDERS", "openai")
    fake_provider_env.enqueue(
        FakeReply.text("Paris.", usage=(10, 2)), FakeReply.text("Lyon and Nice", usage=(8, 3))
    )
    runtime = make_runtime(*BOTH)
    with use_runtime(runtime):
        result = await complete("Capital of France?", model="openai:gpt-4o-mini")
        chunks = [c async for c in stream_complete("Two more?", model="openai:gpt-4o-mini")]
    await runtime.aclose()
    assert result.final_response == "Paris."
    assert result.tokens_used == {"prompt": 10, "completion": 2, "total": 12}
    assert "".join(c.content for c in chunks if c.content) == "Lyon and Nice"
    assert chunks[-1].result.tokens_used == {"prompt": 8, "completion": 3, "total": 11}
    user_agents = {r.headers.get("User-Agent") for r in fake_provider_env.chat_requests}
    assert user_agents == {"gluellm-openai-http/0.1"}  # not the openai SDK's


async def test_embed_splits_to_the_batch_limit_in_order(monkeypatch, fake_provider_env):
    monkeypatch.setenv("GLUELLM_OPENAI_HTTP_EMBED_BATCH_LIMIT", "2")
    runtime = make_runtime((openai_http_plugin, "openai-http"))
    texts = [f"text number {i}" for i in range(5)]
    with use_runtime(runtime):
        result = await embed(texts, model="openai-http:text-embedding-3-small")
        single = await embed(texts[3], model="openai-http:text-embedding-3-small")
    await runtime.aclose()
    assert [len(r.json["input"]) for r in fake_provider_env.embedding_requests] == [2, 2, 1, 1]
    assert result.count == 5
    assert result.embeddings[3] == single.embeddings[0]
    assert result.tokens_used > 0


async def test_a_rate_limit_is_retried_by_the_retry_plugin(fake_provider_env):
    from gluellm_plugins_stamina import plugin as stamina_plugin

    fake_provider_env.enqueue(Fault.status(429, retry_after=0.01), FakeReply.text("ok"))
    runtime = make_runtime(
        (openai_http_plugin, "openai-http"),
        (stamina_plugin, "stamina"),
        retry_min_wait=0,
        retry_max_wait=0.05,
        retry_multiplier=0,
    )
    with use_runtime(runtime):
        result = await complete("hi", model="openai-http:gpt-4o-mini")
    await runtime.aclose()
    assert result.final_response == "ok"
    assert len(fake_provider_env.chat_requests) == 2


async def test_a_rate_limit_without_retries_keeps_retry_after(fake_provider_env):
    fake_provider_env.enqueue(Fault.status(429, retry_after=7))
    runtime = make_runtime((openai_http_plugin, "openai-http"))
    with use_runtime(runtime), pytest.raises(RateLimitError) as raised:
        await complete("hi", model="openai-http:gpt-4o-mini")
    await runtime.aclose()
    assert raised.value.retry_after == 7


def test_endpoints_come_from_the_call_then_the_environment_then_the_provider(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("VLLM_BASE_URL", "http://gpu-box:8000/v1/")
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    openai = resolve("openai", None, None, None)
    assert openai.chat_url == "https://api.openai.com/v1/chat/completions"
    assert openai.headers["Authorization"] == "Bearer sk-env"
    assert "sk-env" not in repr(openai)
    assert resolve("openai-http", "sk-call", "http://h/v1", "http://x").base_url == "http://h/v1"
    assert resolve("openai-http", None, None, "http://gateway/v1").base_url == "http://gateway/v1"
    vllm = resolve("vllm", None, None, None)
    assert vllm.embeddings_url == "http://gpu-box:8000/v1/embeddings"
    assert "Authorization" not in vllm.headers  # local servers need no key
    assert resolve("ollama", None, None, None).base_url == "http://localhost:11434/v1"


def test_missing_key_and_unknown_endpoint_say_what_to_set(monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.delenv("GROQ_BASE_URL", raising=False)
    with pytest.raises(AuthenticationError, match="GROQ_API_KEY"):
        resolve("groq", None, None, None)
    with pytest.raises(ConfigurationError, match="MYLAB_BASE_URL"):
        resolve("mylab", None, None, None)


def test_registering_the_plugin_imports_neither_aiohttp_nor_orjson():
    code = (
        "import sys\n"
        "from gluellm.runtime import Runtime\n"
        "from gluellm.plugins import create_plugin_manager\n"
        "from gluellm_plugins_openai_http import plugin\n"
        "pm = create_plugin_manager(load_entrypoints=False)\n"
        "pm.register(plugin, name='openai-http')\n"
        "Runtime(pm).transport_for('openai-http')\n"
        "print(sorted(m for m in ('aiohttp', 'orjson', 'openai', 'any_llm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


async def test_prepare_loads_the_http_stack_without_blocking_the_loop(fake_provider_env):
    transport = OpenAIHTTPTransport("openai")
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.ensure_future(tick())
    from gluellm_plugins_mock.conformance_support import call_for

    try:
        await transport.prepare(call_for(fake_provider_env, "openai"))
    finally:
        ticker.cancel()
        await transport.aclose()
    assert ticks > 0  # the loop ran while prepare awaited its worker thread


def test_each_event_loop_gets_its_own_session_closed_when_the_loop_ends(fake_provider):
    runtime = make_runtime((openai_http_plugin, "openai-http"))
    runtime.transport_for("openai-http")  # one transport shared by every loop
    errors: list[BaseException] = []

    async def one_call():
        with use_runtime(runtime):
            result = await complete(
                "hi",
                model="openai-http:gpt-4o-mini",
                base_url=fake_provider.openai_base_url,
                api_key="sk-test",
            )
        assert result.final_response == "Echo: hi"

    def in_thread():
        try:
            asyncio.run(one_call())
        except BaseException as error:  # reported below
            errors.append(error)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        for _ in range(2):
            asyncio.run(one_call())  # a loop of its own each time
        worker = threading.Thread(target=in_thread)
        worker.start()
        worker.join()
    assert errors == []
    assert len(fake_provider.chat_requests) == 3
    assert len({r.peer for r in fake_provider.chat_requests}) == 3  # one connection per loop
    deadline = 100
    while fake_provider.open_connections and deadline:
        threading.Event().wait(0.02)
        deadline -= 1
    assert fake_provider.open_connections == 0
