"""Pytest fixtures for testing over real HTTP against the fake provider server.

Registered through the ``pytest11`` entry point, so installing gluellm-plugins-mock
makes the fixtures available everywhere. Importing this module is cheap: aiohttp and
the server load only when a test asks for a fixture.

Fixtures:
    fake_provider: A running `FakeProviderServer` (one per session, in a thread),
        reset before each test.
    fake_provider_env: ``fake_provider`` with ``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``,
        ``XAI_BASE_URL`` and test API keys set in the environment for the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from gluellm_plugins_mock.fake_server import FakeProviderServer

TEST_KEYS = {
    "OPENAI_API_KEY": "sk-test",
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "XAI_API_KEY": "xai-test",
}
"""The API keys ``fake_provider_env`` sets; the fake server accepts any key."""


@pytest.fixture(scope="session")
def _gluellm_fake_provider_session() -> Iterator[FakeProviderServer]:
    from gluellm_plugins_mock.fake_server import FakeProviderServer

    server = FakeProviderServer()
    with server.running_in_thread():
        yield server


@pytest.fixture
def fake_provider(_gluellm_fake_provider_session: FakeProviderServer) -> FakeProviderServer:
    """The session's fake provider server, reset (no script, no records, no latency)."""
    _gluellm_fake_provider_session.reset()
    return _gluellm_fake_provider_session


@pytest.fixture
def fake_provider_env(
    fake_provider: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> FakeProviderServer:
    """``fake_provider``, with the providers' base-URL and API-key variables pointing at it."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_provider.anthropic_base_url)
    monkeypatch.setenv("XAI_BASE_URL", fake_provider.openai_base_url)
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)
    return fake_provider
