"""Fixtures: runtimes over the any-llm transport, talking to the fake provider server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault, RecordedRequest


def make_runtime(*plugins: tuple[object, str], **settings: Any) -> Runtime:
    """A runtime with the any-llm transport and ``plugins`` only (no retries by default)."""
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    for plugin, name in plugins:
        manager.register(plugin, name=name)
    return Runtime(manager, settings=Settings(_env_file=None, **settings))  # type: ignore[call-arg]


@pytest.fixture
def server(fake_provider_env: FakeProviderServer) -> FakeProviderServer:
    """The fake server, with OPENAI_/ANTHROPIC_ base URLs and keys pointing at it."""
    return fake_provider_env


@pytest.fixture
async def runtime(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    """Only the any-llm transport: no retries, no rate limits; closed after the test."""
    fresh = make_runtime()
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


def fault_on_model(faults: dict[str, Any]) -> Callable[[RecordedRequest], Any]:
    """A responder: requests for a model in ``faults`` get its step, others the default."""

    def respond(record: RecordedRequest) -> Any:
        return faults.get(record.model or "")

    return respond


__all__ = ["FakeReply", "Fault", "fault_on_model", "make_runtime"]
