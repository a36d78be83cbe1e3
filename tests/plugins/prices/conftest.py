"""Fixtures: a runtime whose only pricing comes from the prices plugin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gluellm.config import Settings
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_prices import plugin as prices_plugin
from gluellm_plugins_prices.pricing import clear_cache


def make_runtime(*extra: object, **settings: Any) -> Runtime:
    """A runtime with the prices plugin and ``extra`` plugin objects, no entry points."""
    manager: PluginManager = create_plugin_manager(load_entrypoints=False)
    manager.register(prices_plugin, name="prices")
    for index, plugin in enumerate(extra):
        manager.register(plugin, name=f"extra-{index}")
    return Runtime(manager, settings=Settings(_env_file=None, **settings))  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _fresh_prices() -> Iterator[None]:
    """Each test looks prices up afresh."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    fresh = make_runtime()
    with use_runtime(fresh):
        yield fresh
