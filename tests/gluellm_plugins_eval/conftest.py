"""Fixtures for the eval plugin: a runtime with the plugin and a scripted provider."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gluellm import hookimpl
from gluellm.config import Settings
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import ScriptedTransport
from gluellm_plugins_eval import plugin as eval_plugin
from gluellm_plugins_eval import recorder

MODEL = "scripted:test-model"


class ScriptedProvider:
    """Serves provider ``scripted`` with the test's transport."""

    def __init__(self) -> None:
        self.transport: Any = ScriptedTransport()

    @hookimpl
    def register_transports(self, register: Callable[..., None]) -> None:
        register("scripted", lambda: self.transport)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"default_model": MODEL}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _no_global_store() -> Iterator[None]:
    """Every test starts and ends without a global store or settings-built stores."""
    recorder.set_global_eval_store(None)
    recorder._env_stores.clear()
    yield
    recorder.set_global_eval_store(None)
    recorder._env_stores.clear()


@pytest.fixture
def plugin_manager() -> PluginManager:
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(eval_plugin, name="eval")
    return manager


@pytest.fixture
def provider(plugin_manager: PluginManager) -> ScriptedProvider:
    provider = ScriptedProvider()
    plugin_manager.register(provider, name="scripted-provider")
    return provider


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def runtime(
    plugin_manager: PluginManager, provider: ScriptedProvider, settings: Settings
) -> Iterator[Runtime]:
    rt = Runtime(plugin_manager, settings=settings)
    with use_runtime(rt):
        yield rt


@pytest.fixture
def scripted(runtime: Runtime, provider: ScriptedProvider) -> ScriptedTransport:
    transport = provider.transport
    assert isinstance(transport, ScriptedTransport)
    return transport


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, each parsed (a cut or merged line fails the test)."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") or not text
    return [json.loads(line) for line in text.splitlines()]
