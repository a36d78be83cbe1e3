"""Fixtures for the rate-limit plugin: a fresh runtime with only this plugin, per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loguru import logger

import gluellm_plugins_aiolimiter
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime
from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin


@pytest.fixture(autouse=True)
def _fresh_limiter_state() -> Iterator[None]:
    gluellm_plugins_aiolimiter.reset_state()
    yield
    gluellm_plugins_aiolimiter.reset_state()


@pytest.fixture
def make_runtime() -> Callable[..., Runtime]:
    """``make_runtime(**settings)``: a runtime with only the aiolimiter plugin."""

    def make(**settings: Any) -> Runtime:
        manager = create_plugin_manager(load_entrypoints=False)
        manager.register(aiolimiter_plugin, name="aiolimiter")
        return Runtime(manager, settings=Settings(**settings) if settings else None)

    return make


@pytest.fixture
def log_messages() -> Iterator[list[str]]:
    """Every loguru message (INFO and up) logged during the test."""
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="INFO")
    yield messages
    logger.remove(sink)
