"""The issue's "must show" for retries: faults from the fake provider over real HTTP.

The whole path runs: GlueLLM -> retry plugin -> any-llm transport -> openai SDK -> HTTP
on loopback -> the fake provider server, which counts the requests it saw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import stamina

from gluellm import config
from gluellm.api import complete, stream_complete
from gluellm.errors import APIConnectionError, AuthenticationError, RateLimitError
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime

from .conftest import RetryObserver, make_settings

pytest.importorskip("gluellm_plugins_anyllm.plugin")
fake_server = pytest.importorskip("gluellm_plugins_mock.fake_server")
FakeReply, Fault = fake_server.FakeReply, fake_server.Fault

MODEL = "openai:gpt-4o-mini"


@pytest.fixture
def manager() -> PluginManager:
    """Only the transport and the retrier: no rate limiter or other layer in the way."""
    from gluellm_plugins_anyllm import plugin as anyllm_plugin
    from gluellm_plugins_stamina import plugin as stamina_plugin

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(stamina_plugin, name="stamina")
    return manager


@pytest.fixture
def observer(manager: PluginManager) -> RetryObserver:
    observer = RetryObserver()
    manager.register(observer, name="retry-observer")
    return observer


@pytest.fixture
async def http_runtime(manager: PluginManager, fake_provider_env) -> AsyncIterator[Runtime]:
    runtime = Runtime(manager, settings=make_settings(retry_max_attempts=3))
    with use_runtime(runtime):
        yield runtime
    await runtime.aclose()


@pytest.fixture
def no_backoff_runtime(no_backoff: None, http_runtime: Runtime) -> Runtime:
    return http_runtime


async def test_429_with_retry_after_is_waited_out_then_succeeds(
    fake_provider_env, http_runtime, observer
):
    # Our own backoff is zero here, so any wait comes from the server's Retry-After.
    http_runtime._settings = make_settings(
        retry_max_attempts=3, retry_min_wait=0, retry_max_wait=0, retry_multiplier=0
    )
    fake_provider_env.enqueue(Fault.status(429, retry_after=1.0), FakeReply.text("hello"))
    result = await complete("hi", model=MODEL)
    assert result.final_response == "hello"
    first, second = fake_provider_env.chat_requests
    assert second.received_at - first.received_at >= 1.0
    assert observer.retries == [(1, "RateLimitError", 1.0)]


@pytest.mark.usefixtures("no_backoff")
async def test_persistent_429_ends_after_exactly_max_attempts_requests(
    fake_provider_env, manager, monkeypatch
):
    # Through the environment variable, as users configure it.
    monkeypatch.setattr(config, "settings", config.settings)  # restored after the test
    monkeypatch.setenv("GLUELLM_RETRY_MAX_ATTEMPTS", "4")
    config.reload_settings()
    fake_provider_env.responder = lambda request: Fault.status(429, retry_after=0.01)
    runtime = Runtime(manager)
    with use_runtime(runtime), pytest.raises(RateLimitError) as caught:
        await complete("hi", model=MODEL)
    await runtime.aclose()
    assert len(fake_provider_env.chat_requests) == 4
    assert "after 4 attempts" in str(caught.value)
    assert caught.value.retry_after == pytest.approx(0.01)


async def test_two_500s_then_success_takes_three_requests(
    fake_provider_env, no_backoff_runtime, observer
):
    fake_provider_env.enqueue(Fault.status(500), Fault.status(500), FakeReply.text("ok"))
    result = await complete("hi", model=MODEL)
    assert result.final_response == "ok"
    assert len(fake_provider_env.chat_requests) == 3
    assert [(a, e) for a, e, _ in observer.retries] == [
        (1, "APIConnectionError"),
        (2, "APIConnectionError"),
    ]


async def test_401_is_not_retried(fake_provider_env, no_backoff_runtime, observer):
    fake_provider_env.enqueue(Fault.status(401), FakeReply.text("never sent"))
    with pytest.raises(AuthenticationError):
        await complete("hi", model=MODEL)
    assert len(fake_provider_env.chat_requests) == 1
    assert observer.retries == []


async def test_a_dropped_connection_is_retried(fake_provider_env, no_backoff_runtime, observer):
    fake_provider_env.enqueue(Fault.drop_connection(), FakeReply.text("back again"))
    result = await complete("hi", model=MODEL)
    assert result.final_response == "back again"
    assert len(fake_provider_env.chat_requests) == 2
    assert [(a, e) for a, e, _ in observer.retries] == [(1, "APIConnectionError")]


async def test_a_stream_cut_after_its_first_chunks_is_not_replayed(
    fake_provider_env, no_backoff_runtime, observer
):
    fake_provider_env.enqueue(
        Fault.cut_stream(after_chunks=2, then=FakeReply.text("one two three four five six")),
        FakeReply.text("a replay would get this"),
    )
    received: list[str] = []

    async def read() -> None:
        async for chunk in stream_complete("hi", model=MODEL):
            received.append(chunk.content)

    with pytest.raises(APIConnectionError):
        await read()
    assert "".join(received)  # the caller saw the start of the answer...
    assert len(fake_provider_env.chat_requests) == 1  # ...and it was never sent again
    assert observer.retries == []


async def test_a_stream_refused_with_429_is_retried_while_opening(
    fake_provider_env, no_backoff_runtime, observer
):
    fake_provider_env.enqueue(Fault.status(429), FakeReply.text("streamed fine"))
    text = "".join([chunk.content async for chunk in stream_complete("hi", model=MODEL)])
    assert text == "streamed fine"
    assert len(fake_provider_env.chat_requests) == 2
    assert [(a, e) for a, e, _ in observer.retries] == [(1, "RateLimitError")]


def test_stamina_test_mode_is_off_outside_the_fixture():
    # Guards the Retry-After test above: it must really wait, not run in test mode.
    assert not stamina.is_testing()
