"""The Redis backend against a real redis-server on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio

from gluellm.api import complete
from gluellm.models.batch import APIKeyConfig
from gluellm.runtime import override_transport, use_runtime
from gluellm.testing import FunctionTransport
from gluellm_plugins_redis.backend import KEY_PREFIX, PROBE_INTERVAL_S, redis_backend

MODEL = "openai:gpt-4o-mini"
WORKER = Path(__file__).with_name("shared_limit_worker.py")


def redis_settings(url: str, rpm: int, burst: int) -> dict[str, object]:
    return {
        "rate_limit_backend": "redis",
        "rate_limit_redis_url": url,
        "rate_limit_requests_per_minute": rpm,
        "rate_limit_burst": burst,
    }


async def redis_keys(url: str) -> list[str]:
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(await client.keys(f"{KEY_PREFIX}*"))
    finally:
        await client.aclose()


def test_two_processes_share_60_rpm(redis_server) -> None:
    # Arithmetic: 60 rpm with burst 1 is a sliding window of one request per
    # 60 * 1 / 60 = 1 s, timed by the Redis server. Both processes drive it flat out for
    # 15 s, so the two together make about 15 requests, consecutive ones >= 1 s apart.
    # Measuring from the first to the last request (n - 1 gaps) gives the shared rate
    # without counting-boundary error: it can only fall short of 60 rpm by the time a
    # waiter needs to notice a free slot (milliseconds per 1 s gap), so 2% (1.2 rpm)
    # is provable in 15 s, and a limit kept per process (120 rpm together) fails it.
    seconds = 15
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), redis_server.url, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=seconds + 30)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert [o["errors"] for o in outputs] == [[], []]
    per_process = [len(o["admitted"]) for o in outputs]
    admitted = sorted(t for o in outputs for t in o["admitted"])
    assert all(n >= 3 for n in per_process), per_process  # both really took part
    gaps = [b - a for a, b in itertools.pairwise(admitted)]
    assert min(gaps) >= 0.99, gaps  # never two requests in one window
    rate = (len(admitted) - 1) / (admitted[-1] - admitted[0]) * 60
    print(
        f"two processes at 60 rpm: {per_process} admitted, {rate:.2f} rpm, "
        f"min gap {min(gaps):.4f} s"
    )
    assert abs(rate - 60) <= 1.2, (rate, per_process)


async def test_stopping_redis_mid_run_loses_no_request(
    redis_server, make_runtime, log_messages
) -> None:
    # 600 rpm, burst 5: 60 calls take about 5.5 s. Redis goes away at 1.5 s and comes
    # back at 3 s; the calls keep flowing under the local limiter meanwhile.
    runtime = make_runtime(**redis_settings(redis_server.url, rpm=600, burst=5))
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
        await asyncio.sleep(1.5)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(redis_server.start)

    with use_runtime(runtime), override_transport(transport):
        answers, _ = await asyncio.gather(
            asyncio.gather(*(one_call(i) for i in range(60))), outage()
        )
        # After recovery the permits are taken in the restarted (empty) Redis again.
        await asyncio.sleep(PROBE_INTERVAL_S)
        await complete("after", model=MODEL)
        await runtime.aclose()
    assert answers == ["ok"] * 60
    assert len(transport.calls) == 61
    assert not all(states)
    assert states[-1] is True
    assert backend.available
    unreachable = [m for m in log_messages if "is unreachable" in m]
    assert len(unreachable) == 1, log_messages
    assert any("answers again" in m for m in log_messages)
    assert await redis_keys(redis_server.url) == [f"{KEY_PREFIX}provider:openai:600:5"]


async def test_unreachable_redis_from_the_start_falls_back(
    unused_redis_url, make_runtime, log_messages
) -> None:
    runtime = make_runtime(**redis_settings(unused_redis_url, rpm=60, burst=3))
    transport = FunctionTransport(lambda call: "ok")
    with use_runtime(runtime), override_transport(transport):
        started = time.monotonic()
        for _ in range(3):
            await complete("hi", model=MODEL)
        assert time.monotonic() - started < 0.5  # no stalls on the dead server
        with pytest.raises(TimeoutError):  # the local limiter still holds the limit
            await asyncio.wait_for(complete("hi", model=MODEL), timeout=0.3)
        await runtime.aclose()
    assert len(transport.calls) == 3
    assert len([m for m in log_messages if "is unreachable" in m]) == 1


async def test_pool_keys_are_limited_in_redis_without_revealing_keys(
    redis_server, make_runtime
) -> None:
    keys = [
        APIKeyConfig(key=f"sk-redis-secret-{i}", provider="openai", requests_per_minute=60, burst=2)
        for i in range(2)
    ]
    transport = FunctionTransport(lambda call: "ok")
    runtime = make_runtime(**redis_settings(redis_server.url, rpm=60, burst=10))
    with use_runtime(runtime), override_transport(transport):
        for _ in range(4):  # each key's burst of 2: no waiting
            await asyncio.wait_for(complete("hi", model=MODEL, api_keys=keys), timeout=1)
        with_wait = asyncio.create_task(complete("hi", model=MODEL, api_keys=keys))
        await asyncio.sleep(0.3)
        assert not with_wait.done()  # both keys exhausted: the call waits for a permit
        await asyncio.wait_for(with_wait, timeout=2)
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
            requests_per_minute=60,
            burst=2,
            backend="redis",
            redis_url=redis_server.url,
        )
        second = get_rate_limiter(
            key="shared_limiter",
            requests_per_minute=60,
            burst=2,
            backend="redis",
            redis_url=redis_server.url,
        )
        assert await first.try_acquire()
        assert await second.try_acquire()
        assert not await first.try_acquire()
        assert not await second.try_acquire()
        started = time.monotonic()
        await second.acquire()  # the window frees a slot 2 s after the first permit
        assert 1.5 <= time.monotonic() - started <= 2.3
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
    # The permits after the restart were taken in the new (empty) server.
    assert await redis_keys(redis_server.url) == [f"{KEY_PREFIX}provider:openai:6000:100"]
