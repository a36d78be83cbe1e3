"""The shared window in Redis, and what an outage or a restart may and may not do to it.

These drive `RedisBackend` directly with limits of a second or so, against a real
redis-server on loopback; admission times are taken on this process's monotonic clock,
so windows are checked 20 ms short of the period to allow for round trips.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time

import redis.asyncio

from gluellm_plugins_aiolimiter.limits import Limit
from gluellm_plugins_redis.backend import RedisBackend, redis_key

SLACK_S = 0.02


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, t + window, lo=i) - i for i, t in enumerate(times)), default=0
    )


async def entries(url: str, limit: Limit) -> int:
    client = redis.asyncio.Redis.from_url(url)
    try:
        return int(await client.zcard(redis_key(limit)))
    finally:
        await client.aclose()


async def flat_out(
    backend: RedisBackend, limit: Limit, seconds: float, workers: int
) -> list[float]:
    """Take permits back to back from ``workers`` tasks; return when each was granted."""
    admitted: list[float] = []

    async def worker() -> None:
        while True:
            await backend.acquire(limit)
            admitted.append(time.monotonic())

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await backend.aclose()
    return admitted


def test_two_backends_share_one_window(redis_server) -> None:
    # Two backends in two threads with their own loops are, to Redis, two processes.
    # 5 per 0.5 s, 2 at once: 12 in 1.1 s together; a window per process would give 24.
    limit = Limit("provider:shared", 5, 2, period_s=0.5)
    results: list[list[float]] = []
    # Both start together, connected: a thread that was still starting (or connecting)
    # under load while the other took every permit made this test flaky.
    start_together = threading.Barrier(2)

    async def connect_then_race() -> list[float]:
        backend = RedisBackend(redis_server.url)
        assert await backend.try_acquire(Limit("provider:warm-up", 1000, 1000))
        await asyncio.to_thread(start_together.wait, 30)
        return await flat_out(backend, limit, seconds=1.1, workers=3)

    def process() -> None:
        results.append(asyncio.run(connect_then_race()))

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    both = [t for times in results for t in times]
    assert all(len(times) >= 2 for times in results), results  # both really took part
    assert 6 <= len(both) <= 13, len(both)
    assert most_in_any_window(both, 0.5 - SLACK_S) <= 5
    assert most_in_any_window(both, 0.2 - SLACK_S) <= 2


async def test_an_outage_does_not_hand_out_a_fresh_burst(redis_server, log_messages) -> None:
    backend = RedisBackend(redis_server.url, probe_interval_s=0.1)
    limit = Limit("provider:x", 4, 4, period_s=30.0)
    assert [await backend.try_acquire(limit) for _ in range(5)] == [True] * 4 + [False]
    await asyncio.to_thread(redis_server.stop)
    # The local fallback already holds the 4 permits Redis granted.
    assert not await backend.try_acquire(limit)
    assert not backend.available
    assert len([m for m in log_messages if "is unreachable" in m]) == 1


async def test_permits_taken_during_an_outage_count_in_redis_afterwards(
    redis_server, log_messages
) -> None:
    backend = RedisBackend(redis_server.url, probe_interval_s=0.1)
    limit = Limit("provider:x", 6, 6, period_s=30.0)
    assert [await backend.try_acquire(limit) for _ in range(2)] == [True, True]
    await asyncio.to_thread(redis_server.stop)
    assert [await backend.try_acquire(limit) for _ in range(3)] == [True] * 3  # locally
    await asyncio.to_thread(redis_server.start)  # empty: it lost the first two
    await asyncio.sleep(0.15)
    # The restarted Redis learns all five before deciding: one permit is left.
    assert await backend.try_acquire(limit)
    assert backend.available
    assert not await backend.try_acquire(limit)
    assert await entries(redis_server.url, limit) == 6
    assert any("answers again" in m for m in log_messages)
    await backend.aclose()


async def test_the_window_holds_through_an_outage_and_a_restart(redis_server) -> None:
    # 5 per 0.6 s, flat out for 2 s; Redis is down (and loses everything) from 0.5 s to
    # about 1 s. Waiters queued on the local fallback meanwhile go back to Redis, which
    # learns what they took: no 0.6 s of the run holds more than 5.
    backend = RedisBackend(redis_server.url, probe_interval_s=0.1)
    limit = Limit("provider:x", 5, 5, period_s=0.6)
    states: list[bool] = []

    async def outage() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis_server.stop)
        # The backend notices at its next command: within 0.2 s when the machine is
        # quiet; a loaded CI machine gets up to a second before this counts as a miss.
        for _ in range(100):
            if not backend.available:
                break
            await asyncio.sleep(0.01)
        states.append(backend.available)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(redis_server.start)

    outage_task = asyncio.create_task(outage())
    admitted = await flat_out(backend, limit, seconds=2.0, workers=8)
    await outage_task
    assert states == [False]
    assert backend.available
    assert most_in_any_window(admitted, 0.6 - SLACK_S) <= 5
    assert len(admitted) >= 8  # the limit is used, not starved, around the outage


async def test_a_restart_is_healed_by_replaying_the_permits_redis_granted(redis_server) -> None:
    backend = RedisBackend(redis_server.url)
    limit = Limit("provider:x", 3, 3, period_s=30.0)
    assert [await backend.try_acquire(limit) for _ in range(2)] == [True, True]
    redis_server.stop()
    redis_server.start()  # quicker than any probe: the pool notices on the next command
    assert await backend.try_acquire(limit)
    assert not await backend.try_acquire(limit)  # Redis was told of the two before
    assert await entries(redis_server.url, limit) == 3
    await backend.aclose()


async def test_the_local_copy_of_the_window_keeps_one_period_only(redis_server) -> None:
    backend = RedisBackend(redis_server.url)
    limit = Limit("provider:x", 1000, 1000, period_s=0.2)
    for _ in range(5):
        assert await backend.try_acquire(limit)
    await asyncio.sleep(0.25)
    assert await backend.try_acquire(limit)
    assert len(backend.journal(limit).window) == 1  # what Redis granted 0.25 s ago is gone
    await backend.aclose()
