"""`LoopStore`: a store delivered by worker tasks on the event loop where runs finish.

Callbacks, fan-out and users' own stores may hold that loop's resources (an async
database client), so their records are delivered there: one queue and a few workers
per loop, started on first use. When the loop shuts down with records queued,
``asyncio.run()`` cancels the workers, and they deliver what is left before exiting.
"""

from __future__ import annotations

import abc
import asyncio
import weakref
from typing import TYPE_CHECKING, Any

import attrs

from gluellm_plugins_eval.buffered import BufferedStore, RecordSource, eval_logger

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord

WORKER_IDLE_S = 30.0
"""Seconds a worker waits for a record before exiting (new ones start on demand)."""


@attrs.define
class _LoopState:
    queue: asyncio.Queue[Any]
    workers: list[asyncio.Task[None]]
    # Set once a worker was cancelled (loop shutdown or close()): the workers left are
    # delivering what is queued; no new ones start, so none outlive the loop.
    draining: bool = False
    releasing: bool = False  # our own close() cancelled the workers, not the loop


class LoopStore(BufferedStore):
    """A store whose records are delivered by worker tasks on the caller's event loop.

    Subclasses implement `_deliver` (awaited under ``record_timeout``).

    Args:
        concurrency: Records delivered at the same time, per event loop.
        **options: See `BufferedStore`.
    """

    def __init__(self, *, concurrency: int = 8, **options: Any) -> None:
        super().__init__(**options)
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}.")
        self.concurrency = concurrency
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    @abc.abstractmethod
    async def _deliver(self, record: EvalRecord) -> None:
        """Store one record (on the loop where it was made)."""

    @property
    def _bounds_itself(self) -> bool:
        """Whether `_deliver` applies ``record_timeout`` itself (raising TimeoutError)."""
        return False

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState(asyncio.Queue(maxsize=self.queue_size), [])
        if not state.draining and not any(not w.done() for w in state.workers):
            state.workers = [
                loop.create_task(self._work(state), name=f"{_WORKER} {self!r}")
                for _ in range(self.concurrency)
            ]
        return state

    def _offer(self, source: RecordSource) -> bool:
        try:
            state = self._state()
        except RuntimeError:
            return self._deliver_outside_loop(source)
        try:
            state.queue.put_nowait(source)
        except asyncio.QueueFull:
            return False
        self._accepted()
        return True

    async def record(self, record: RecordSource) -> None:
        """Queue ``record``; while the loop shuts down, store it at once instead."""
        if _in_shutdown():
            self._accepted()
            await self._settle(record)
            return
        await super().record(record)

    async def _put_waiting(self, source: RecordSource) -> None:
        await self._state().queue.put(source)
        self._accepted()

    def _deliver_outside_loop(self, source: RecordSource) -> bool:
        """No loop is running (a sync caller): deliver in a loop of our own."""
        self._accepted()
        asyncio.run(self._settle(source))
        return True

    async def _settle(self, source: RecordSource) -> None:
        record = self._materialize(source)
        if record is None:
            return
        try:
            async with asyncio.timeout(None if self._bounds_itself else self.record_timeout):
                await self._deliver(record)
        except TimeoutError:
            self._count("timed_out")
            eval_logger().warning(
                "{}: storing a record took over {} s (correlation ID {}); abandoned",
                self,
                self.record_timeout,
                record.correlation_id,
            )
        except Exception:
            self._count("failed")
            eval_logger().exception(
                "{}: storing a record failed (correlation ID {})", self, record.correlation_id
            )
        else:
            self._count("written")

    async def _work(self, state: _LoopState) -> None:
        q = state.queue
        source: Any = None
        task = asyncio.current_task()
        try:
            while True:
                try:
                    async with asyncio.timeout(WORKER_IDLE_S):
                        source = await q.get()
                except TimeoutError:
                    if q.empty():
                        # Idle: exit, so stores nobody uses any more leave no tasks
                        # behind; `_state` starts workers again on the next record. No
                        # await between the check and the return: no record slips in.
                        return
                    continue
                await self._settle(source)
                source = None
                q.task_done()
                if task is not None and task.cancelling():
                    # A delivery absorbed the cancel to finish (a sync callback already
                    # running in its thread): the loop is going, so drain now.
                    raise asyncio.CancelledError
        except asyncio.CancelledError:
            # The loop is shutting down (asyncio.run cancels every task) or the store is
            # closing: deliver what is still queued before going, so a run's record is
            # not lost with its loop. A delivery cut by the cancel is tried once more.
            # Stores this one hands records to see the loop is going (`_in_shutdown`) and
            # store them inline instead of starting workers that would outlive it.
            state.draining = True
            if not state.releasing:
                _SHUTTING_DOWN.add(asyncio.get_running_loop())
            if source is not None:
                try:
                    await self._settle(source)
                finally:
                    q.task_done()
            await self._drain(q)
            raise

    async def _drain(self, q: asyncio.Queue[Any]) -> None:
        while True:
            try:
                source = q.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._settle(source)
            finally:
                q.task_done()

    async def flush(self) -> None:
        """Wait until every record queued on this loop is settled.

        Records queued on loops that are gone cannot be delivered there; they are
        delivered on this loop instead.
        """
        current = asyncio.get_running_loop()
        for loop, state in list(self._loops.items()):
            if loop is current:
                if not state.draining and any(not w.done() for w in state.workers):
                    await state.queue.join()
                else:
                    await self._drain(state.queue)
            elif loop.is_closed() or not loop.is_running():
                await self._drain(state.queue)
            else:
                future = asyncio.run_coroutine_threadsafe(state.queue.join(), loop)
                await asyncio.wrap_future(future)

    async def _release(self) -> None:
        state = self._loops.get(asyncio.get_running_loop())
        if state is None:
            return
        workers, state.workers = state.workers, []
        state.releasing = True
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await self._drain(state.queue)  # anything that arrived while they stopped
        state.draining = state.releasing = False  # used again later: new workers start

    def _flush_at_exit(self) -> int:
        leftovers: list[Any] = []
        for state in list(self._loops.values()):
            while True:
                try:
                    leftovers.append(state.queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
        if not leftovers:
            return 0
        before = self.stats.written

        async def deliver_all() -> None:
            for source in leftovers:
                await self._settle(source)

        asyncio.run(deliver_all())
        return self.stats.written - before


def _in_shutdown() -> bool:
    """Whether the running loop is shutting down (it cancelled one of our workers)."""
    return asyncio.get_running_loop() in _SHUTTING_DOWN


_WORKER = "gluellm-eval-worker"
_SHUTTING_DOWN: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
