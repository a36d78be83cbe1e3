"""Rate limits and API-key pools, counted at the transport (no HTTP needed to count)."""

from __future__ import annotations

import asyncio
import importlib.metadata
import subprocess
import sys
import time
from collections import Counter

import pytest

from gluellm import config
from gluellm.api import GlueLLM, complete
from gluellm.call import ModelCall
from gluellm.errors import AuthenticationError, RateLimitError
from gluellm.models.batch import APIKeyConfig
from gluellm.runtime import override_transport, use_runtime
from gluellm.testing import FunctionTransport

MODEL = "openai:gpt-4o-mini"


def recording_transport() -> tuple[FunctionTransport, list[tuple[float, ModelCall]]]:
    """A transport that answers "ok" and records (monotonic time, call) per request."""
    seen: list[tuple[float, ModelCall]] = []

    def answer(call: ModelCall) -> str:
        seen.append((time.monotonic(), call))
        return "ok"

    return FunctionTransport(answer), seen


async def test_a_burst_is_followed_by_a_pause_not_a_trickle(make_runtime) -> None:
    # 120 rpm, burst 10: 10 at once, then nothing until the burst is 60 * 10 / 120 = 5 s
    # old. (A leaky bucket lets the 11th through after 0.5 s: 68-70 in a 60-rpm minute.)
    runtime = make_runtime(rate_limit_requests_per_minute=120, rate_limit_burst=10)
    transport, seen = recording_transport()
    with use_runtime(runtime), override_transport(transport):
        for _ in range(10):  # (generous timeouts where no wait is due: loaded CI machines)
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=5)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=0.8)
    assert len(seen) == 10


def test_asyncio_run_per_call_shares_the_limit(make_runtime) -> None:
    runtime = make_runtime(rate_limit_requests_per_minute=2, rate_limit_burst=2)
    transport, seen = recording_transport()

    async def one_call(timeout: float) -> None:
        with use_runtime(runtime), override_transport(transport):
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=timeout)

    asyncio.run(one_call(5))
    asyncio.run(one_call(5))
    with pytest.raises(TimeoutError):  # a fresh event loop gets no fresh permits
        asyncio.run(one_call(0.3))
    assert len(seen) == 2


async def test_three_keys_give_three_times_the_limit_spread_evenly(make_runtime) -> None:
    # Each key: 4 per minute, all 4 at once. Three keys: 12 at once, 4 per key, then wait.
    keys = [
        APIKeyConfig(key=f"sk-test-key-{i}", provider="openai", requests_per_minute=4, burst=4)
        for i in range(3)
    ]
    transport, seen = recording_transport()
    with use_runtime(make_runtime()), override_transport(transport):
        client = GlueLLM(MODEL, api_keys=keys)
        await asyncio.wait_for(asyncio.gather(*(client.complete("hi") for _ in range(12))), 5)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.complete("hi"), timeout=0.3)
    per_key = Counter(call.api_key for _, call in seen)
    assert per_key == {k.key.get_secret_value(): 4 for k in keys}


async def test_exhausted_pool_waits_for_the_first_free_key(make_runtime) -> None:
    # Key a frees a permit every 0.5 s, key b every 2 s: after the burst (one each), the
    # third call must go to a, about 0.5 s later.
    keys = [
        APIKeyConfig(key="sk-slow-bbbb", provider="openai", requests_per_minute=30, burst=1),
        APIKeyConfig(key="sk-fast-aaaa", provider="openai", requests_per_minute=120, burst=1),
    ]
    transport, seen = recording_transport()
    with use_runtime(make_runtime()), override_transport(transport):
        for _ in range(3):
            await complete("hi", model=MODEL, api_keys=keys)
    used = [call.api_key for _, call in seen]
    assert sorted(used[:2]) == ["sk-fast-aaaa", "sk-slow-bbbb"]
    assert used[2] == "sk-fast-aaaa"
    assert 0.45 <= seen[2][0] - seen[0][0] <= 1.2  # from the first request, startup excluded


async def test_rate_limited_key_cools_down_for_retry_after(make_runtime, log_messages) -> None:
    a, b = "sk-cool-aaaa", "sk-cool-bbbb"
    keys = [APIKeyConfig(key=k, provider="openai") for k in (a, b)]
    answered_429 = False

    def answer(call: ModelCall) -> str:
        nonlocal answered_429
        if call.api_key == a and not answered_429:
            answered_429 = True
            raise RateLimitError("429 Too Many Requests", retry_after=1.0)
        return "ok"

    transport = FunctionTransport(answer)
    runtime = make_runtime(rate_limit_requests_per_minute=6000, rate_limit_burst=100)
    with use_runtime(runtime), override_transport(transport):
        first = await complete("hi", model=MODEL, api_keys=keys)
        # The 429 did not reach the caller: the same attempt went on with key b.
        assert first.final_response == "ok"
        assert [c.api_key for c in transport.calls] == [a, b]
        started = time.monotonic()
        for _ in range(10):
            await complete("hi", model=MODEL, api_keys=keys)
        assert time.monotonic() - started < 0.9
        assert {c.api_key for c in transport.calls[2:]} == {b}  # a is cooling down
        await asyncio.sleep(1.0 - (time.monotonic() - started) + 0.05)
        for _ in range(4):
            await complete("hi", model=MODEL, api_keys=keys)
    assert Counter(c.api_key for c in transport.calls[12:]) == {a: 2, b: 2}
    assert any("sk:...aaaa" not in m and "...aaaa" in m for m in log_messages)
    assert not any(a in m or b in m for m in log_messages)


async def test_whole_pool_rate_limited_raises_for_the_retry_layer(make_runtime) -> None:
    keys = [APIKeyConfig(key=f"sk-busy-{i}000", provider="openai") for i in range(3)]

    def answer(call: ModelCall) -> str:
        raise RateLimitError("429", retry_after=5.0)

    transport = FunctionTransport(answer)
    with use_runtime(make_runtime()), override_transport(transport), pytest.raises(RateLimitError):
        await complete("hi", model=MODEL, api_keys=keys)
    # Each key tried once in the attempt, none twice.
    assert sorted(c.api_key for c in transport.calls) == sorted(
        k.key.get_secret_value() for k in keys
    )


async def test_rejected_key_leaves_the_pool_with_a_warning(make_runtime, log_messages) -> None:
    good1, bad, good2 = "sk-good-1111", "sk-bad-key-9999", "sk-good-2222"
    keys = [APIKeyConfig(key=k, provider="openai") for k in (good1, bad, good2)]

    def answer(call: ModelCall) -> str:
        if call.api_key == bad:
            raise AuthenticationError("401 invalid api key")
        return "ok"

    transport = FunctionTransport(answer)
    runtime = make_runtime(rate_limit_requests_per_minute=6000, rate_limit_burst=100)
    with use_runtime(runtime), override_transport(transport):
        results = [await complete("hi", model=MODEL, api_keys=keys) for _ in range(9)]
    assert all(r.final_response == "ok" for r in results)  # nothing reached the caller
    used = Counter(c.api_key for c in transport.calls)
    assert used[bad] == 1
    assert used[good1] + used[good2] == 9
    warnings = [m for m in log_messages if "taken out of the pool" in m]
    assert len(warnings) == 1
    assert "openai:...9999" in warnings[0]
    assert not any(bad in m for m in log_messages)


async def test_pool_with_every_key_rejected_raises_authentication_error(make_runtime) -> None:
    keys = [APIKeyConfig(key=f"sk-revoked-{i}abc", provider="openai") for i in range(2)]

    def answer(call: ModelCall) -> str:
        raise AuthenticationError("401")

    transport = FunctionTransport(answer)
    with use_runtime(make_runtime()), override_transport(transport):
        with pytest.raises(AuthenticationError, match="No usable API key is left") as info:
            await complete("hi", model=MODEL, api_keys=keys)
        assert "openai:...0abc" in str(info.value)
        assert "sk-revoked" not in str(info.value)
        # The pool stays empty: the next call fails without sending anything.
        with pytest.raises(AuthenticationError, match="No usable API key is left"):
            await complete("hi", model=MODEL, api_keys=keys)
    assert len(transport.calls) == 2


async def test_keys_of_other_providers_are_not_used(make_runtime) -> None:
    keys = [APIKeyConfig(key="sk-ant-only-1234", provider="anthropic")]
    transport, seen = recording_transport()
    with use_runtime(make_runtime()), override_transport(transport):
        await complete("hi", model=MODEL, api_keys=keys)
    assert seen[0][1].api_key is None  # the transport looks up the openai key itself


async def test_limits_are_scoped_per_provider(make_runtime) -> None:
    runtime = make_runtime(rate_limit_requests_per_minute=2, rate_limit_burst=2)
    transport, seen = recording_transport()
    with use_runtime(runtime), override_transport(transport):
        for model in (MODEL, MODEL, "anthropic:claude-3-5-haiku", "anthropic:claude-3-5-haiku"):
            await asyncio.wait_for(complete("hi", model=model), timeout=5)
        with pytest.raises(TimeoutError):  # openai's burst is spent; the next waits ~60 s
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=0.3)
    assert [c.provider for _, c in seen] == ["openai", "openai", "anthropic", "anthropic"]


async def test_settings_are_read_at_call_time(make_runtime, monkeypatch) -> None:
    monkeypatch.setattr(config, "settings", config.settings)  # restored after the test
    runtime = make_runtime()  # no fixed settings: reads gluellm.config.settings
    transport, seen = recording_transport()
    monkeypatch.setenv("GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE", "1")
    monkeypatch.setenv("GLUELLM_RATE_LIMIT_BURST", "1")
    monkeypatch.setenv("GLUELLM_RATE_LIMIT_ENABLED", "false")
    config.reload_settings()
    with use_runtime(runtime), override_transport(transport):
        started = time.monotonic()
        for _ in range(20):
            await complete("hi", model=MODEL)
        assert time.monotonic() - started < 5  # disabled: 20 calls at 1 rpm, no waiting
        monkeypatch.setenv("GLUELLM_RATE_LIMIT_ENABLED", "true")
        config.reload_settings()
        await asyncio.wait_for(complete("hi", model=MODEL), timeout=5)  # the burst of 1
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=0.3)
        # The spec's other spelling: assign the setting in code.
        config.settings.rate_limit_enabled = False
        await asyncio.wait_for(complete("hi", model=MODEL), timeout=5)
    assert len(seen) == 22


async def test_spec_rate_limiter_api(make_runtime) -> None:
    from gluellm.rate_limiter import acquire_rate_limit, get_rate_limiter

    with use_runtime(make_runtime()):
        limiter = get_rate_limiter(key="my_custom_limiter", requests_per_minute=120, burst=2)
        same = get_rate_limiter(key="my_custom_limiter", requests_per_minute=120, burst=2)
        started = time.monotonic()
        await asyncio.wait_for(acquire_rate_limit("my_custom_limiter", rate_limiter=limiter), 5)
        assert await same.try_acquire()  # the second of the burst: both share permits
        assert not await limiter.try_acquire()
        async with limiter:  # the next burst: 60 * 2 / 120 = 1 s after the first
            pass
        assert 0.9 <= time.monotonic() - started <= 2.0
        defaults = get_rate_limiter("other")
        assert (defaults.requests_per_minute, defaults.burst) == (60, 10)


def test_rate_limiter_module_names_the_plugin_when_missing(monkeypatch) -> None:
    import gluellm.rate_limiter as module

    monkeypatch.delitem(module.__dict__, "get_rate_limiter", raising=False)
    monkeypatch.setitem(sys.modules, "gluellm_plugins_aiolimiter.api", None)
    with pytest.raises(ImportError, match="pip install gluellm-plugins-aiolimiter"):
        from gluellm.rate_limiter import get_rate_limiter  # noqa: F401


def test_importing_the_plugin_leaves_the_limiter_for_first_use() -> None:
    code = (
        "import sys, gluellm, gluellm.rate_limiter, gluellm_plugins_aiolimiter.plugin; "
        "sys.exit('gluellm_plugins_aiolimiter.limits' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_plugins_are_registered_as_entry_points() -> None:
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="gluellm")}
    assert points["aiolimiter"] == "gluellm_plugins_aiolimiter.plugin"
    assert points["redis"] == "gluellm_plugins_redis.plugin"


async def test_pool_rotates_keys_when_permits_are_plentiful(make_runtime) -> None:
    # Far below the limits every key always has a permit: least-recently-used order
    # still spreads the calls evenly instead of wearing out the first key.
    keys = [APIKeyConfig(key=f"sk-rotate-{i}xyz", provider="openai") for i in range(3)]
    transport, seen = recording_transport()
    runtime = make_runtime(rate_limit_requests_per_minute=6000, rate_limit_burst=100)
    with use_runtime(runtime), override_transport(transport):
        for _ in range(9):
            await complete("hi", model=MODEL, api_keys=keys)
    assert Counter(c.api_key for _, c in seen) == {k.key.get_secret_value(): 3 for k in keys}


async def test_each_retry_attempt_takes_its_own_permit(make_runtime) -> None:
    # Pipeline order is retrier -> rate limiter -> transport: with 60 rpm and burst 1,
    # the retry of a failed first attempt must wait about a second for its permit.
    from gluellm.errors import APIConnectionError
    from gluellm_plugins_stamina import plugin as stamina_plugin

    runtime = make_runtime(
        rate_limit_requests_per_minute=60,
        rate_limit_burst=1,
        retry_max_attempts=2,
        retry_min_wait=0,
        retry_max_wait=0,
    )
    runtime.plugin_manager.register(stamina_plugin, name="stamina")
    transport_times: list[float] = []
    failures = iter([APIConnectionError("502 Bad Gateway")])

    def answer(call: ModelCall) -> str:
        transport_times.append(time.monotonic())
        error = next(failures, None)
        if error is not None:
            raise error
        return "ok"

    with use_runtime(runtime), override_transport(FunctionTransport(answer)):
        result = await complete("hi", model=MODEL)
    assert result.final_response == "ok"
    assert len(transport_times) == 2
    assert 0.85 <= transport_times[1] - transport_times[0] <= 2.0
