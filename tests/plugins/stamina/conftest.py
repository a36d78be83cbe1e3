"""Fixtures for the retry plugin: a runtime with only this plugin and a scripted model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stamina

from gluellm import hookimpl
from gluellm.config import Settings
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import ScriptedTransport
from gluellm_plugins_stamina import plugin as stamina_plugin

MODEL = "scripted:test-model"


class ScriptedProvider:
    """Serves provider ``scripted`` with whatever transport the test puts in ``transport``."""

    def __init__(self) -> None:
        self.transport: Any = ScriptedTransport()

    @hookimpl
    def register_transports(self, register: Callable[..., None]) -> None:
        register("scripted", lambda: self.transport)


class RetryObserver:
    """Records every ``on_retry`` as (attempt, error class name, wait_s)."""

    def __init__(self) -> None:
        self.retries: list[tuple[int, str, float]] = []
        self.correlation_ids: list[str] = []

    @hookimpl
    def on_retry(self, call: Any, attempt: int, error: BaseException, wait_s: float) -> None:
        self.retries.append((attempt, type(error).__name__, wait_s))
        self.correlation_ids.append(call.correlation_id)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"retry_max_attempts": 3, "rate_limit_enabled": False}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """stamina's test mode: no real sleeping; cap=True keeps our attempt counts."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture
def plugin_manager() -> PluginManager:
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(stamina_plugin, name="stamina")
    return manager


@pytest.fixture
def provider(plugin_manager: PluginManager) -> ScriptedProvider:
    provider = ScriptedProvider()
    plugin_manager.register(provider, name="scripted-provider")
    return provider


@pytest.fixture
def observer(plugin_manager: PluginManager) -> RetryObserver:
    observer = RetryObserver()
    plugin_manager.register(observer, name="retry-observer")
    return observer


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
