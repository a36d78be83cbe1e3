"""Fixtures: a runtime with only the any-llm transport, talking to the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gluellm.call import ModelCall
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_anyllm.http_stack import STACK_ENV
from gluellm_plugins_anyllm.transport import AnyLLMTransport
from gluellm_plugins_mock.fake_server import FakeProviderServer

STACKS = ("aiohttp", "httpx")


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per HTTP stack the openai SDK can use."""
    monkeypatch.setenv(STACK_ENV, request.param)
    return str(request.param)


@pytest.fixture
def server(fake_provider_env: FakeProviderServer) -> FakeProviderServer:
    """The fake server, with OPENAI_/ANTHROPIC_/XAI_ base URLs and keys pointing at it."""
    return fake_provider_env


def make_runtime(**settings: Any) -> Runtime:
    """A runtime with only the any-llm plugin (no retries, no rate limits)."""
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    return Runtime(manager, settings=Settings(_env_file=None, **settings))  # type: ignore[call-arg]


@pytest.fixture
async def runtime(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    """A fresh runtime scoped to the test; its transports close afterwards."""
    fresh = make_runtime()
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


@pytest.fixture
async def openai_transport(server: FakeProviderServer) -> AsyncIterator[AnyLLMTransport]:
    transport = AnyLLMTransport("openai")
    yield transport
    await transport.aclose()


def chat_call(provider: str = "openai", model: str = "gpt-4o-mini", **kw: Any) -> ModelCall:
    """A one-message call, ready for a transport."""
    kw.setdefault("messages", [{"role": "user", "content": "Say something."}])
    return ModelCall(model=f"{provider}:{model}", provider=provider, model_name=model, **kw)
