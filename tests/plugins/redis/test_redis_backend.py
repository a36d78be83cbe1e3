"""The Redis backend against a real redis-server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
import redis.asyncio

from gluellm.api import complete
from gluellm.models.batch import APIKeyConfig
from gluellm.runtime import override_transport, use_runtime
from gluellm.testing import FunctionTransport
from gluellm_plugins_redis import backend as backend_module
from gluellm_plugins_redis.backend import KEY_PREFIX, redis_backend

MODEL = "openai:gpt-4o-mini"


def redis_settings(url: str, rpm: int, burst: int) -> dict[str, object]:
    return {
        "rate_limit_backend": "redis",
        "rate_limit_redis_url": url,
        "rate_limit_requests_per_minute": rpm,
        "rate_limit_burst": burst,
    }


async def redis_count(url: str, key: str) -> int:
    client = redis.asyncio.Redis.from_url(url)
    try:
        return int(await client.zcard(key))
    finally:
        await client.aclose()


async def redis_keys(url: str) -> list[str]:
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(await client.keys(f"{KEY_PREFIX}*"))
    finally:
        await client.aclose()


async def test_stopping_redis_mid_run_loses_no_request(
    redis_server, make_runtime, log_messages, monkeypatch
) -> None:
    # 1200 rpm, burst 10: 10 calls per 0.5 s, so 30 calls take about 1.5 s. Redis goes
    # away at 0.3 s and comes back at 0.8 s; the calls keep flowing under the local
    # window meanwhile.
    monkeypatch.setattr(backend_module, "PROBE_INTERVAL_S", 0.2)
    runtime = make_runtime(**redis_settings(redis_server.url, rpm=1200, burst=10))
    transport = FunctionTransport(lambda call: "ok")
    backend = redis_backend(redis_server.url)
    gate = asyncio.Semaphore(5)
    states: list[bool] = []

    async def one_call(i: int) -> str | None:
        async with gate:
            result = await complete(f"hi {i}", model=MODEL)
            states.append(backend.available)
            return result.final_response

    async def outage() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis_server.start)

    with use_runtime(runtime), override_transport(transport):
        answers, _ = await asyncio.gather(
            asyncio.gather(*(one_call(i) for i in range(30))), outage()
        )
        # After recovery the permits are taken in the restarted Redis again.
        await asyncio.sleep(0.25)
        await complete("after", model=MODEL)
        await runtime.aclose()
    assert answers == ["ok"] * 30
    assert len(transport.calls) == 31
    assert not all(states)  # some calls went through while Redis was down
    assert backend.available
    unreachable = [m for m in log_messages if "is unreachable" in m]
    assert len(unreachable) == 1, log_messages
    assert any("answers again" in m for m in log_messages)
    assert await redis_keys(redis_server.url) == [f"{KEY_PREFIX}provider:openai:1200/60s:10"]


async def test_unreachable_redis_from_the_start_falls_back(
    unused_redis_url, make_runtime, log_messages
) -> None:
    runtime = make_runtime(**redis_settings(unused_redis_url, rpm=60, burst=3))
    transport = FunctionTransport(lambda call: "ok")
    with use_runtime(make_runtime(rate_limit_enabled=False)), override_transport(transport):
        await complete("warm up", model=MODEL)  # a cold process's first call costs imports
    with use_runtime(runtime), override_transport(transport):
        started = time.monotonic()
        for _ in range(3):
            await complete("hi", model=MODEL)
        assert time.monotonic() - started < 0.5  # no stalls on the dead server
        with pytest.raises(TimeoutError):  # the local limiter still holds the limit
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=0.3)
        await runtime.aclose()
    assert len(transport.calls) == 1 + 3
    assert len([m for m in log_messages if "is unreachable" in m]) == 1


async def test_pool_keys_are_limited_in_redis_without_revealing_keys(
    redis_server, make_runtime
) -> None:
    keys = [
        APIKeyConfig(
            key=f"sk-redis-secret-{i}", provider="openai", requests_per_minute=120, burst=2
        )
        for i in range(2)
    ]
    transport = FunctionTransport(lambda call: "ok")
    runtime = make_runtime(**redis_settings(redis_server.url, rpm=60, burst=10))
    with use_runtime(runtime), override_transport(transport):
        for _ in range(4):  # each key's burst of 2: no waiting
            await asyncio.wait_for(complete("hi", model=MODEL, api_keys=keys), timeout=5)
        with_wait = asyncio.create_task(complete("hi", model=MODEL, api_keys=keys))
        await asyncio.sleep(0.3)
        assert not with_wait.done()  # both keys exhausted: the call waits for a permit
        await asyncio.wait_for(with_wait, timeout=2)  # a key's next burst: after 1 s
        await runtime.aclose()
    assert Counter(c.api_key for c in transport.calls[:4]) == {
        "sk-redis-secret-0": 2,
        "sk-redis-secret-1": 2,
    }
    names = await redis_keys(redis_server.url)
    assert len(names) == 2
    assert all(n.startswith(f"{KEY_PREFIX}key:openai:") for n in names)
    assert not any("secret" in n for n in names)


async def test_spec_api_shares_a_named_limiter_through_redis(redis_server, make_runtime) -> None:
    from gluellm.rate_limiter import get_rate_limiter

    with use_runtime(make_runtime(**redis_settings(redis_server.url, rpm=60, burst=2))):
        # Two limiters with the same name stand for two application instances.
        first = get_rate_limiter(
            key="shared_limiter",
            requests_per_minute=120,
            burst=2,
            backend="redis",
            redis_url=redis_server.url,
        )
        second = get_rate_limiter(
            key="shared_limiter",
            requests_per_minute=120,
            burst=2,
            backend="redis",
            redis_url=redis_server.url,
        )
        started = time.monotonic()
        assert await first.try_acquire()
        assert await second.try_acquire()
        assert not await first.try_acquire()
        assert not await second.try_acquire()
        await second.acquire()  # the next burst: 60 * 2 / 120 = 1 s after the first
        assert 0.9 <= time.monotonic() - started <= 2.0
        await redis_backend(redis_server.url).aclose()


async def test_quick_redis_restart_is_not_reported_as_an_outage(
    redis_server, make_runtime, log_messages
) -> None:
    # After a restart every pooled connection is dead. The first call to notice drops the
    # pool and retries once on a fresh one, so nothing falls back and nothing is logged.
    runtime = make_runtime(**redis_settings(redis_server.url, rpm=6000, burst=100))
    transport = FunctionTransport(lambda call: "ok")
    with use_runtime(runtime), override_transport(transport):
        await asyncio.gather(*(complete("hi", model=MODEL) for _ in range(5)))  # 5 connections
        redis_server.stop()
        redis_server.start()
        await asyncio.gather(*(complete("hi", model=MODEL) for _ in range(5)))
        await runtime.aclose()
    assert len(transport.calls) == 10
    assert not [m for m in log_messages if "unreachable" in m]
    assert redis_backend(redis_server.url).available
    # The restarted (empty) server was told of the 5 permits before the restart.
    key = f"{KEY_PREFIX}provider:openai:6000/60s:100"
    assert await redis_keys(redis_server.url) == [key]
    assert await redis_count(redis_server.url, key) == 10
