"""`gluellm.deadlines.Deadline`: asyncio.timeout's behaviour, one timer per event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gluellm import deadlines
from gluellm.deadlines import Deadline


def _open_deadlines() -> int:
    loop = asyncio.get_running_loop()
    state = deadlines._per_loop.get(loop)
    return 0 if state is None else sum(len(bucket) for bucket in state.buckets.values())


async def test_a_block_that_runs_too_long_raises_timeout_error() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError), Deadline(0.05) as deadline:
        await asyncio.sleep(10)
    assert deadline.expired()
    assert loop.time() - started >= 0.05
    assert _open_deadlines() == 0


async def test_a_block_that_finishes_in_time_leaves_nothing_behind() -> None:
    with Deadline(30) as deadline:
        await asyncio.sleep(0)
        assert _open_deadlines() == 1
    assert not deadline.expired()
    assert _open_deadlines() == 0


async def test_an_inner_deadline_that_expires_is_caught_inside_the_outer_one() -> None:
    with Deadline(30) as outer:
        with pytest.raises(TimeoutError), Deadline(0.02) as inner:
            await asyncio.sleep(10)
        await asyncio.sleep(0)  # the task was uncancelled: it goes on
    assert inner.expired()
    assert not outer.expired()


async def test_an_outer_deadline_that_expires_is_reported_by_the_outer_block() -> None:
    inner = Deadline(30)
    outer = Deadline(0.02)

    async def nested() -> None:
        with outer:
            try:
                with inner:
                    await asyncio.sleep(10)
            except asyncio.CancelledError:
                # The inner block sees a plain cancellation: its deadline did not pass.
                assert not inner.expired()
                raise

    with pytest.raises(TimeoutError):
        await nested()
    assert outer.expired()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def bounded() -> None:
        with Deadline(30):
            await asyncio.sleep(10)

    task = asyncio.create_task(bounded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancellation_that_races_the_deadline_stays_a_cancellation() -> None:
    loop = asyncio.get_running_loop()

    async def bounded() -> None:
        with Deadline(0.05) as deadline:
            task = asyncio.current_task()
            assert task is not None
            # Someone else cancels at the very moment the deadline passes: the task is
            # cancelled twice before it runs again, and the cancellation wins.
            loop.call_at(deadline.when, task.cancel)
            await asyncio.sleep(10)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(bounded())


async def test_a_shorter_duration_opened_later_still_fires_on_time() -> None:
    # The loop's one timer is armed for the 60 s bound first, then for the earlier one.
    async def long_bound() -> None:
        with Deadline(60):
            await asyncio.sleep(10)

    long_task = asyncio.create_task(long_bound())
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError), Deadline(0.02):
        await asyncio.sleep(10)
    assert not long_task.done()
    long_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long_task


async def test_many_concurrent_blocks_expire_each_with_its_own_error() -> None:
    async def bounded(seconds: float) -> str:
        try:
            with Deadline(seconds):
                await asyncio.sleep(10)
        except TimeoutError:
            return "timed out"
        return "finished"

    results = await asyncio.gather(*(bounded(0.01 + i / 1000) for i in range(200)))
    assert results == ["timed out"] * 200
    assert _open_deadlines() == 0


async def test_blocks_that_end_before_expiry_are_not_cancelled_afterwards() -> None:
    for _ in range(100):
        with Deadline(0.03):
            await asyncio.sleep(0)
    await asyncio.sleep(0.06)  # past every one of those deadlines: nothing is cancelled
    assert _open_deadlines() == 0


async def test_durations_computed_per_call_do_not_pile_up() -> None:
    for number in range(1000):
        with Deadline(30 + number / 1000):
            pass
    state = deadlines._per_loop[asyncio.get_running_loop()]
    assert len(state.buckets) <= 2 * deadlines._PRUNE_AT


async def test_a_deadline_is_entered_once() -> None:
    deadline = Deadline(1)
    with deadline:
        pass
    with pytest.raises(RuntimeError, match="entered only once"), deadline:
        pass


def test_a_deadline_needs_a_running_task() -> None:
    with pytest.raises(RuntimeError), Deadline(1):
        pass


def test_each_event_loop_and_thread_has_its_own_timer() -> None:
    async def times_out() -> bool:
        try:
            with Deadline(0.02):
                await asyncio.sleep(10)
        except TimeoutError:
            return True
        return False

    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(asyncio.run(times_out()))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.append(asyncio.run(times_out()))  # and one more loop in this thread, after
    assert results == [True] * 5
