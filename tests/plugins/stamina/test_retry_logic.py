"""The retry plugin's behaviour, driven through the real pipeline with scripted models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import stamina
from loguru import logger

from gluellm import config
from gluellm.api import complete
from gluellm.call import ModelCall, ModelResponse, StreamDelta
from gluellm.config import Settings
from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    RateLimitError,
    TokenLimitError,
)
from gluellm.pipeline import run_call
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import FunctionTransport
from gluellm_plugins_stamina._retrier import RETRY_AFTER_CAP_S, RetryPolicy

from .conftest import MODEL, make_settings

pytestmark = pytest.mark.usefixtures("no_backoff")


def _server_error() -> APIConnectionError:
    return APIConnectionError("server answered 500")


def _rate_limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("server answered 429", retry_after=retry_after)


async def test_a_transient_error_is_retried_until_success(scripted, observer):
    scripted.add(_server_error(), "hello")
    result = await complete("hi", model=MODEL)
    assert result.final_response == "hello"
    assert len(scripted.calls) == 2
    assert observer.retries == [(1, "APIConnectionError", 0.0)]


async def test_persistent_429_gives_up_after_max_attempts(scripted, observer, settings):
    scripted.add(*[_rate_limited(retry_after=0.0) for _ in range(10)])
    with pytest.raises(RateLimitError) as caught:
        await complete("hi", model=MODEL)
    error = caught.value
    assert len(scripted.calls) == settings.retry_max_attempts == 3
    assert "after 3 attempts" in str(error)
    assert error.retry_after == 0.0  # kept for callers that back off further
    assert error.retry_attempts == 3
    assert isinstance(error.__cause__, RateLimitError)
    assert error.__cause__ is not error
    assert [attempt for attempt, _, _ in observer.retries] == [1, 2]


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("bad key"),
        InvalidRequestError("bad parameter"),
        TokenLimitError("prompt too long"),
        ValueError("a bug, not a provider failure"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_errors_a_retry_cannot_fix_are_not_retried(scripted, observer, error):
    scripted.add(error, "never reached")
    with pytest.raises(type(error)) as caught:
        await complete("hi", model=MODEL)
    assert caught.value is error  # untouched: the provider's verdict, as is
    assert len(scripted.calls) == 1
    assert observer.retries == []


async def test_a_non_retryable_error_after_retries_still_says_the_attempts(scripted):
    scripted.add(_server_error(), AuthenticationError("key revoked"))
    with pytest.raises(AuthenticationError, match="after 2 attempts"):
        await complete("hi", model=MODEL)
    assert len(scripted.calls) == 2


async def test_on_retry_reports_each_failed_attempt_with_the_call(scripted, observer, runtime):
    runtime._settings = make_settings(retry_max_attempts=4)
    scripted.add(_server_error(), _rate_limited(), APITimeoutError("slow"), "finally")
    result = await complete("hi", model=MODEL, correlation_id="corr-42")
    assert result.final_response == "finally"
    assert observer.retries == [
        (1, "APIConnectionError", 0.0),
        (2, "RateLimitError", 0.0),
        (3, "APITimeoutError", 0.0),
    ]
    assert observer.correlation_ids == ["corr-42"] * 3
    assert result.correlation_id == "corr-42"


async def test_a_failing_observer_does_not_break_the_call(scripted, plugin_manager, observer):
    class Broken:
        from gluellm import hookimpl

        @hookimpl
        def on_retry(self, call, attempt, error, wait_s):
            raise RuntimeError("observer bug")

    plugin_manager.register(Broken(), name="broken")
    scripted.add(_server_error(), "ok")
    result = await complete("hi", model=MODEL)
    assert result.final_response == "ok"
    assert observer.retries == [(1, "APIConnectionError", 0.0)]


async def test_retries_are_logged_with_the_correlation_id(scripted):
    records: list[dict] = []
    sink = logger.add(lambda message: records.append(message.record), level="WARNING")
    try:
        scripted.add(_server_error(), _server_error(), _server_error())
        with pytest.raises(APIConnectionError):
            await complete("hi", model=MODEL, correlation_id="corr-log")
    finally:
        logger.remove(sink)
    retries = [r for r in records if r["message"].startswith("Retrying")]
    assert len(retries) == 2
    for record in records:
        assert record["extra"]["correlation_id"] == "corr-log"
        assert "corr-log" in record["message"]
    assert "gave up after 3 attempts" in records[-1]["message"]


async def test_timed_out_attempts_are_retried_and_the_error_says_how_many(provider, runtime):
    async def slow(call: ModelCall) -> str:
        await asyncio.sleep(10)
        return "too late"

    provider.transport = FunctionTransport(slow)
    with pytest.raises(APITimeoutError) as caught:
        await complete("hi", model=MODEL, timeout=0.05)
    assert len(provider.transport.calls) == 3
    assert "after 3 attempts" in str(caught.value)
    assert isinstance(caught.value.__cause__, APITimeoutError)


async def test_max_attempts_of_one_means_no_retry_layer(scripted, observer, runtime):
    runtime._settings = make_settings(retry_max_attempts=1)
    error = _rate_limited()
    scripted.add(error)
    with pytest.raises(RateLimitError) as caught:
        await complete("hi", model=MODEL)
    assert caught.value is error
    assert len(scripted.calls) == 1


async def test_settings_are_read_at_call_time(plugin_manager, provider, monkeypatch):
    # A runtime without fixed settings follows gluellm.config.settings, reloads included.
    monkeypatch.setattr(config, "settings", config.settings)  # restored after the test
    monkeypatch.setenv("GLUELLM_RETRY_MAX_ATTEMPTS", "5")
    config.reload_settings()
    provider.transport.add(*[_server_error() for _ in range(10)])
    with use_runtime(Runtime(plugin_manager)), pytest.raises(APIConnectionError):
        await complete("hi", model=MODEL)
    assert len(provider.transport.calls) == 5


async def test_stamina_deactivated_turns_retries_off(scripted):
    scripted.add(_server_error(), "unused")
    stamina.set_active(False)
    try:
        with pytest.raises(APIConnectionError):
            await complete("hi", model=MODEL)
    finally:
        stamina.set_active(True)
    assert len(scripted.calls) == 1


# --- Retry-After and the backoff schedule ---------------------------------------


@pytest.fixture
def real_waits(no_backoff: None, runtime: Runtime) -> Iterator[None]:
    """Leave stamina's test mode so the computed waits are really slept (tiny ones)."""
    with stamina.set_testing(False):
        yield


@pytest.mark.usefixtures("real_waits")
async def test_retry_after_sets_the_wait(scripted, observer, runtime):
    runtime._settings = make_settings(retry_min_wait=0, retry_max_wait=0, retry_multiplier=0)
    scripted.add(_rate_limited(retry_after=0.05), "ok")
    result = await complete("hi", model=MODEL)
    assert result.final_response == "ok"
    assert observer.retries == [(1, "RateLimitError", 0.05)]


@pytest.mark.usefixtures("real_waits")
async def test_retry_after_never_shortens_our_own_backoff(scripted, observer, runtime):
    runtime._settings = make_settings(retry_min_wait=0.02, retry_max_wait=0.02)
    scripted.add(_rate_limited(retry_after=0.001), _server_error(), "ok")
    await complete("hi", model=MODEL)
    assert observer.retries == [(1, "RateLimitError", 0.02), (2, "APIConnectionError", 0.02)]


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(scripted, observer):
    scripted.add(_rate_limited(retry_after=RETRY_AFTER_CAP_S + 1), "unused")
    with pytest.raises(RateLimitError) as caught:
        await complete("hi", model=MODEL)
    assert len(scripted.calls) == 1
    assert observer.retries == []
    assert caught.value.retry_after == RETRY_AFTER_CAP_S + 1
    assert "not retried because the server asked to wait 61 s" in str(caught.value)


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy.from_settings(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            retry_max_attempts=20,
            retry_min_wait=2,
            retry_max_wait=30,
            retry_multiplier=1,
        )
    )
    for _ in range(200):
        assert 2 <= policy.backoff(1) <= 3  # multiplier*1 is below min_wait: min_wait
        assert 2 <= policy.backoff(2) <= 3
        assert 4 <= policy.backoff(3) <= 5
        assert 16 <= policy.backoff(5) <= 17
        assert policy.backoff(6) == 30  # capped
        assert policy.backoff(5000) == 30  # no overflow
    assert len({policy.backoff(3) for _ in range(50)}) > 1  # jittered


def test_a_max_wait_below_min_wait_keeps_the_min():
    policy = RetryPolicy.from_settings(make_settings(retry_min_wait=5, retry_max_wait=1))
    assert policy.backoff(1) == 5


# --- streams ------------------------------------------------------------------------


def _stream_call() -> ModelCall:
    return ModelCall(
        model=MODEL,
        provider="scripted",
        model_name="test-model",
        messages=({"role": "user", "content": "hi"},),
        stream=True,
    )


async def test_a_stream_that_fails_after_its_first_chunk_is_not_replayed(
    provider, runtime, observer
):
    async def chunks() -> AsyncIterator[StreamDelta]:
        yield StreamDelta(content="Hel")
        raise APIConnectionError("connection reset mid-stream")

    provider.transport.add(ModelResponse(stream=chunks()), "a replay would get this")
    response = await run_call(_stream_call(), runtime)
    assert response.stream is not None
    received: list[str | None] = []

    async def read() -> None:
        async for delta in response.stream:
            received.append(delta.content)

    with pytest.raises(APIConnectionError, match="mid-stream"):
        await read()
    assert received == ["Hel"]
    assert len(provider.transport.calls) == 1
    assert provider.transport.remaining == 1
    assert observer.retries == []


async def test_a_stream_that_fails_to_open_is_retried(provider, runtime, observer):
    async def chunks() -> AsyncIterator[StreamDelta]:
        yield StreamDelta(content="Hello", finish_reason="stop")

    provider.transport.add(_rate_limited(), ModelResponse(stream=chunks()))
    response = await run_call(_stream_call(), runtime)
    assert response.stream is not None
    assert [delta.content async for delta in response.stream] == ["Hello"]
    assert len(provider.transport.calls) == 2
    assert observer.retries == [(1, "RateLimitError", 0.0)]


def test_policy_is_built_once_per_settings_object_and_again_after_a_reload():
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime
    from gluellm_plugins_stamina import plugin as stamina_plugin

    first = Settings(_env_file=None, retry_max_attempts=4)
    runtime = Runtime(create_plugin_manager(load_entrypoints=False), settings=first)
    call = object()
    one = stamina_plugin.get_retrier(call=call, runtime=runtime)
    two = stamina_plugin.get_retrier(call=call, runtime=runtime)
    assert one.policy is two.policy  # cached
    assert one.policy.max_attempts == 4
    reloaded = Runtime(
        runtime.plugin_manager, settings=Settings(_env_file=None, retry_max_attempts=1)
    )
    assert stamina_plugin.get_retrier(call=call, runtime=reloaded) is None
    again = Runtime(runtime.plugin_manager, settings=Settings(_env_file=None, retry_max_attempts=2))
    assert stamina_plugin.get_retrier(call=call, runtime=again).policy.max_attempts == 2
