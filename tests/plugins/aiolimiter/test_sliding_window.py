"""The sliding window with a burst in memory: exact on a fake clock, one per process."""

from __future__ import annotations

import asyncio
import bisect
import random
import threading
import time

import pytest

from gluellm_plugins_aiolimiter.limits import Limit, LocalBackend
from gluellm_plugins_aiolimiter.window import SlidingWindow


class FakeClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) inside any half-open ``[t, t + window)``."""
    return max(
        (bisect.bisect_left(times, t + window, lo=i) - i for i, t in enumerate(times)), default=0
    )


def flat_out(window: SlidingWindow, clock: FakeClock, seconds: float) -> list[float]:
    """Ask for permits back to back, jumping the clock to each promised moment."""
    start, admitted = clock.now, []
    while clock.now - start < seconds:
        wait = window.take()
        if wait == 0.0:
            admitted.append(clock.now - start)
        else:
            clock.now += wait
    return admitted


def test_flat_out_at_60_rpm_burst_10_admits_60_per_minute_in_bursts_of_10() -> None:
    clock = FakeClock()
    window = SlidingWindow(Limit("provider:x", 60, 10), clock)
    admitted = flat_out(window, clock, seconds=180)
    # 10 at once, the next 10 once the first are 60 * 10 / 60 = 10 s old, and so on.
    assert admitted == [float(10 * (i // 10)) for i in range(180)]
    assert most_in_any_window(admitted, 60.0) == 60
    assert most_in_any_window(admitted, 10.0) == 10


def test_burst_window_that_does_not_divide_the_minute_still_caps_the_minute() -> None:
    # Burst 7 at 60 rpm: 7 per 7 s alone would allow 63 in some minutes (9 bursts).
    clock = FakeClock()
    window = SlidingWindow(Limit("provider:x", 60, 7), clock)
    admitted = flat_out(window, clock, seconds=600)
    assert most_in_any_window(admitted, 60.0) == 60
    assert most_in_any_window(admitted, 7.0) == 7
    assert len(admitted) >= 590  # the limit is reached, not undershot


@pytest.mark.parametrize("seed", range(12))
def test_random_arrivals_never_exceed_either_window(seed: int) -> None:
    rng = random.Random(seed)
    requests = rng.randint(1, 12)
    limit = Limit("provider:x", requests, rng.randint(1, 15), period_s=rng.choice([1.0, 6.0, 60.0]))
    clock = FakeClock()
    window = SlidingWindow(limit, clock)
    start, admitted, refused = clock.now, [], 0
    for _ in range(2000):
        clock.now += rng.expovariate(4 * limit.requests / limit.period_s)
        if window.take() == 0.0:
            admitted.append(clock.now - start)
        else:
            refused += 1
            # A refusal is justified: one of the two windows is full right now.
            now = clock.now - start
            in_period = len(admitted) - bisect.bisect_right(admitted, now - limit.period_s)
            in_burst = len(admitted) - bisect.bisect_right(admitted, now - limit.burst_period_s)
            assert in_period >= limit.requests or in_burst >= limit.effective_burst
    assert refused > 0
    assert most_in_any_window(admitted, limit.period_s) <= limit.requests
    assert most_in_any_window(admitted, limit.burst_period_s) <= limit.effective_burst


def test_wait_is_the_time_until_the_next_permit() -> None:
    clock = FakeClock()
    window = SlidingWindow(Limit("provider:x", 2, 1, period_s=10.0), clock)  # 1 per 5 s
    assert window.take() == 0.0
    assert window.take() == pytest.approx(5.0)
    clock.now += 4.9
    assert window.take() == pytest.approx(0.1)
    clock.now += 0.1
    assert window.take() == 0.0
    assert window.take() == pytest.approx(5.0)  # both windows free up at t=10
    clock.now += 5.0
    assert window.take() == 0.0


def test_a_burst_above_the_rate_is_capped_at_the_rate() -> None:
    clock = FakeClock()
    window = SlidingWindow(Limit("provider:x", 3, 10), clock)
    assert [window.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.take() == pytest.approx(60.0)


async def test_acquire_waits_for_the_window_to_move() -> None:
    backend = LocalBackend()
    limit = Limit("provider:x", 4, 2, period_s=0.4)  # 2 at once, 2 more 0.2 s later
    times = []
    for _ in range(6):
        await backend.acquire(limit)
        times.append(time.monotonic())
    gaps = [t - times[0] for t in times]
    assert gaps[1] < 0.1
    assert 0.19 <= gaps[2] <= 0.35
    assert 0.39 <= gaps[4] <= 0.7  # the first two had to leave the 0.4 s window


async def test_waiters_are_served_in_arrival_order() -> None:
    backend = LocalBackend()
    limit = Limit("provider:x", 20, 1, period_s=1.0)  # one per 0.05 s
    await backend.acquire(limit)
    order: list[int] = []

    async def waiter(i: int) -> None:
        await backend.acquire(limit)
        order.append(i)

    tasks = []
    for i in range(6):
        tasks.append(asyncio.create_task(waiter(i)))
        await asyncio.sleep(0)  # each task reaches the queue before the next starts
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=2)
    assert order == list(range(6))


async def test_a_newcomer_does_not_overtake_a_waiter() -> None:
    clock = FakeClock()
    backend = LocalBackend(clock)
    limit = Limit("provider:x", 10, 1, period_s=1.0)  # one per 0.1 s
    assert await backend.try_acquire(limit)
    waiter = asyncio.create_task(backend.acquire(limit))
    await asyncio.sleep(0.01)  # the waiter is queued, asleep for 0.1 s of real time
    clock.now += 0.1  # a permit frees up before the waiter wakes
    assert not await backend.try_acquire(limit)  # it is the waiter's
    await asyncio.wait_for(waiter, timeout=1)
    assert not await backend.try_acquire(limit)  # and the waiter got it


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    backend = LocalBackend()
    limit = Limit("provider:x", 5, 1, period_s=1.0)  # one per 0.2 s
    await backend.acquire(limit)
    cancelled = asyncio.create_task(backend.acquire(limit))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(backend.acquire(limit), timeout=2)
    await asyncio.sleep(0.25)
    assert await backend.try_acquire(limit)  # nobody is counted as waiting any more


def test_every_event_loop_and_thread_shares_one_window() -> None:
    # One asyncio.run() per call, in four threads at once: the limit is the process's.
    backend = LocalBackend()
    limit = Limit("provider:x", 5, 5)
    granted: list[bool] = []
    lock = threading.Lock()

    def thread() -> None:
        for _ in range(5):
            ok = asyncio.run(backend.try_acquire(limit))
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=thread) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 20
    assert granted.count(True) == 5


def test_permits_taken_in_one_event_loop_count_in_the_next() -> None:
    backend = LocalBackend()
    limit = Limit("provider:x", 2, 2, period_s=0.3)
    started = time.monotonic()
    asyncio.run(backend.acquire(limit))
    asyncio.run(backend.acquire(limit))
    asyncio.run(backend.acquire(limit))  # waits for the first to leave the window
    assert 0.29 <= time.monotonic() - started <= 0.8
