"""`BufferedStore`: the bounded queue every built-in store puts between a run and its writes.

A run hands its record over in microseconds; the writing happens elsewhere. Two
engines drain the queue:

- `ThreadedStore` (files, SQLite): one writer thread per store, independent of event
  loops, so a store made under one ``asyncio.run()`` keeps working under the next. The
  single writer means JSONL lines can never interleave.
- `LoopStore` (callbacks, fan-out, user stores): worker tasks on the event loop where the
  record was made (an async callback may hold that loop's resources), one set per loop,
  started lazily. When a loop shuts down with records still queued (``asyncio.run()``
  cancels every task), the workers deliver what is left before they exit.

Both count what happens (`StoreStats`) and make the full-queue policy explicit:
``when_full="wait"`` (the finishing run waits for room: lossless back-pressure) or
``"drop"`` (the record is dropped and counted in ``stats.dropped``).
"""

from __future__ import annotations

import abc
import asyncio
import atexit
import queue
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord

WhenFull: TypeAlias = Literal["wait", "drop"]
"""What a full queue does to a new record: make the run wait for room, or drop it."""

Redactor: TypeAlias = "Callable[[EvalRecord], EvalRecord | None]"
"""Applied to every record before it is stored; return the record (changed or not), or
None to skip storing it."""

RecordSource: TypeAlias = "EvalRecord | Callable[[], EvalRecord]"
"""A record, or a function that builds it (the eval plugin builds records off the
caller's path, in the store's writer)."""

DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_RECORD_TIMEOUT = 30.0


class EvalStoreNotClosedWarning(UserWarning):
    """A store still held records at interpreter exit: they were flushed then."""


@attrs.define
class StoreStats:
    """What a store did with the records it was given.

    Attributes:
        queued: Records accepted into the queue.
        written: Records stored.
        dropped: Records dropped because the queue was full (``when_full="drop"``).
        failed: Records whose building, redaction or storing raised.
        timed_out: Records whose storing took longer than ``record_timeout``.
        skipped: Records the redactor chose not to store (it returned None).
    """

    queued: int = 0
    written: int = 0
    dropped: int = 0
    failed: int = 0
    timed_out: int = 0
    skipped: int = 0

    @property
    def pending(self) -> int:
        """Records accepted but not yet settled (written, failed, timed out or skipped)."""
        return self.queued - self.written - self.failed - self.timed_out - self.skipped


def _log() -> Any:
    from loguru import logger

    return logger


def correlation_of(source: Any) -> str | None:
    """The correlation ID of a record or record builder, for log lines."""
    cid = getattr(source, "correlation_id", None)
    return cid if isinstance(cid, str) else None


class BufferedStore(abc.ABC):
    """Base of the built-in stores: ``record`` enqueues, a background writer stores.

    Implements the `gluellm.protocols.EvalStore` protocol. ``await store.record(r)``
    returns once the record is queued, not once it is written; ``await store.close()``
    writes everything queued and releases files and connections. A store used again
    after ``close()`` reopens.

    Args:
        queue_size: Records the queue holds before ``when_full`` applies.
        when_full: ``"wait"``: the finishing run waits for room (nothing is lost);
            ``"drop"``: the record is dropped and counted in ``stats.dropped``.
        record_timeout: Seconds one record's storing may take before it is abandoned,
            logged with its correlation ID and counted in ``stats.timed_out``.
        redact: Applied to every record before it is stored (after the plugin removed
            API keys and ``Authorization`` headers); return None to skip the record.
    """

    def __init__(
        self,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        when_full: WhenFull = "wait",
        record_timeout: float = DEFAULT_RECORD_TIMEOUT,
        redact: Redactor | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {queue_size}.")
        if when_full not in ("wait", "drop"):
            raise ValueError(f"when_full must be 'wait' or 'drop', not {when_full!r}.")
        if record_timeout <= 0:
            raise ValueError(f"record_timeout must be positive, not {record_timeout}.")
        self.queue_size = queue_size
        self.when_full: WhenFull = when_full
        self.record_timeout = record_timeout
        self.redact = redact
        self.stats = StoreStats()
        self._stats_lock = threading.Lock()
        self._unclosed = False  # records were queued since the last close()
        _LIVE_STORES.add(self)

    # --- the EvalStore protocol ------------------------------------------------

    async def record(self, record: RecordSource) -> None:
        """Queue ``record`` for storing.

        Waits only when the queue is full and ``when_full`` is ``"wait"``.
        """
        if not self._offer(record):
            if self.when_full == "drop":
                self._dropped(record)
            else:
                await self._put_waiting(record)

    def record_nowait(self, record: RecordSource) -> None:
        """Queue ``record`` without waiting (for code that cannot await).

        With a full queue and ``when_full="wait"``, a task on the running loop waits
        for room on the record's behalf, so nothing is lost.
        """
        if self._offer(record):
            return
        if self.when_full == "drop":
            self._dropped(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._put_blocking(record)
            return
        task = loop.create_task(self._put_waiting(record))
        _WAITING_PUTS.add(task)
        task.add_done_callback(_WAITING_PUTS.discard)

    @abc.abstractmethod
    async def flush(self) -> None:
        """Wait until every record queued so far is settled (stored, failed or timed out)."""

    async def close(self) -> None:
        """Store everything queued, then release files and connections."""
        await flush_adapters(exclude=self, limit=self.record_timeout)
        await self.flush()
        await self._release()
        self._unclosed = False

    # --- for subclasses ----------------------------------------------------------

    @abc.abstractmethod
    def _offer(self, source: RecordSource) -> bool:
        """Put ``source`` in the queue if there is room; return whether it was."""

    @abc.abstractmethod
    async def _put_waiting(self, source: RecordSource) -> None:
        """Put ``source`` in the queue, waiting for room."""

    def _put_blocking(self, source: RecordSource) -> None:
        """Put ``source`` in the queue from code outside any event loop."""
        raise RuntimeError(f"{type(self).__name__} needs a running event loop to wait for room.")

    @abc.abstractmethod
    async def _release(self) -> None:
        """Release what the writer holds (files, connections, workers)."""

    @abc.abstractmethod
    def _flush_at_exit(self) -> int:
        """Store what is left at interpreter exit, synchronously; return how many."""

    def _count(self, field: str, n: int = 1) -> None:
        with self._stats_lock:
            setattr(self.stats, field, getattr(self.stats, field) + n)

    def _accepted(self) -> None:
        self._unclosed = True
        self._count("queued")

    def _dropped(self, source: RecordSource) -> None:
        self._count("dropped")
        if self.stats.dropped == 1 or self.stats.dropped % 1000 == 0:
            _log().warning(
                "{}: queue full ({} records), dropped a record (correlation ID {}); "
                "{} dropped so far. Use when_full='wait' to make runs wait instead.",
                self,
                self.queue_size,
                correlation_of(source),
                self.stats.dropped,
            )

    def _materialize(self, source: RecordSource) -> EvalRecord | None:
        """Build the record, redact it; None when it must not be stored (counted)."""
        try:
            record = source() if callable(source) else source
            if self.redact is not None:
                redacted = self.redact(record)
                if redacted is None:
                    self._count("skipped")
                    return None
                record = redacted
        except Exception:
            self._count("failed")
            _log().exception(
                "{}: building or redacting a record failed (correlation ID {}); not stored",
                self,
                correlation_of(source),
            )
            return None
        return record

    warn_unclosed = True
    """Warn at exit when the store was used and not closed (adapters of user stores,
    which users cannot close, warn only when records were still waiting)."""

    def _at_exit(self) -> None:
        if not self._unclosed:
            return
        try:
            flushed = self._flush_at_exit()
        except Exception:
            _log().exception("{}: flushing at interpreter exit failed", self)
            flushed = 0
        lost = self.stats.pending
        if not (self.warn_unclosed or flushed or lost):
            return
        warnings.warn(
            f"{self!r} was not closed: {flushed} record(s) were flushed at interpreter exit"
            + (f", {lost} could not be" if lost else "")
            + ". Call `await store.close()` when done.",
            EvalStoreNotClosedWarning,
            stacklevel=1,
        )


# --- the thread engine ---------------------------------------------------------------

_STOP = object()


class ThreadedStore(BufferedStore):
    """A store written by one thread of its own, in batches (files, SQLite).

    Subclasses implement `_write_batch` (called in the writer thread only) and
    `_close_writer`.

    Args:
        batch_size: Most records written in one batch (one write, one transaction).
        **options: See `BufferedStore`.
    """

    def __init__(self, *, batch_size: int = 500, **options: Any) -> None:
        super().__init__(**options)
        self.batch_size = batch_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=self.queue_size)
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._settled = threading.Condition()
        self._settled_count = 0
        self._accepted_count = 0

    @abc.abstractmethod
    def _write_batch(self, records: list[EvalRecord]) -> None:
        """Store ``records`` (writer thread only); raise to fail the whole batch."""

    @abc.abstractmethod
    def _close_writer(self) -> None:
        """Close files and connections (writer thread, or at exit)."""

    def _offer(self, source: RecordSource) -> bool:
        self._ensure_thread()
        with self._settled:
            try:
                self._queue.put_nowait(source)
            except queue.Full:
                return False
            self._accepted_count += 1
        self._accepted()
        return True

    async def _put_waiting(self, source: RecordSource) -> None:
        # The queue is thread-safe and loop-free; waiting happens in a worker thread.
        await asyncio.to_thread(self._put_blocking, source)

    def _put_blocking(self, source: RecordSource) -> None:
        self._ensure_thread()
        self._queue.put(source)
        with self._settled:
            self._accepted_count += 1
        self._accepted()

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run_writer, name=f"gluellm-eval-{type(self).__name__}", daemon=True
                )
                self._thread.start()

    def _run_writer(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._close_writer()
                return
            batch = [first]
            stop = False
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._write_sources(batch)
            if stop:
                self._close_writer()
                return

    def _write_sources(self, batch: list[Any]) -> None:
        records = [r for r in (self._materialize(s) for s in batch) if r is not None]
        try:
            if records:
                self._write_batch(records)
        except Exception:
            self._count("failed", len(records))
            _log().exception(
                "{}: writing {} record(s) failed (correlation IDs {}); not stored",
                self,
                len(records),
                ", ".join(sorted({r.correlation_id or "-" for r in records})[:5]),
            )
        else:
            self._count("written", len(records))
        with self._settled:
            self._settled_count += len(batch)
            self._settled.notify_all()

    def _wait_settled(self, target: int) -> None:
        with self._settled:
            while self._settled_count < target:
                if self._thread is None or not self._thread.is_alive():
                    return  # nothing left to wait for
                self._settled.wait(timeout=0.5)

    async def flush(self) -> None:
        """Wait until every record queued so far is written (or failed)."""
        with self._settled:
            target = self._accepted_count
            done = self._settled_count >= target
        if not done:
            await asyncio.to_thread(self._wait_settled, target)

    async def _release(self) -> None:
        await asyncio.to_thread(self._stop_thread)

    def _stop_thread(self, timeout: float | None = None) -> None:
        with self._thread_lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._queue.put(_STOP)
            thread.join(timeout)

    def _flush_at_exit(self) -> int:
        before = self.stats.written
        self._stop_thread(timeout=self.record_timeout)
        if self._thread is not None and self._thread.is_alive():
            return self.stats.written - before  # still writing: leave it be
        # Synchronous fallback: whatever the thread did not take, written here.
        leftovers = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                leftovers.append(item)
        if leftovers:
            self._write_sources(leftovers)
            self._close_writer()
        return self.stats.written - before


# --- the event-loop engine -----------------------------------------------------------


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
            _log().warning(
                "{}: storing a record took over {} s (correlation ID {}); abandoned",
                self,
                self.record_timeout,
                record.correlation_id,
            )
        except Exception:
            self._count("failed")
            _log().exception(
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
                source = await q.get()
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

# --- registries: stores alive, user stores adapted, records waiting for room ----------

_LIVE_STORES: weakref.WeakSet[BufferedStore] = weakref.WeakSet()
_ADAPTERS: weakref.WeakSet[LoopStore] = weakref.WeakSet()
_WAITING_PUTS: set[asyncio.Task[None]] = set()


def register_adapter(adapter: LoopStore) -> None:
    """Remember an adapter in front of a user's store, so built-in stores flush it first."""
    _ADAPTERS.add(adapter)


async def flush_adapters(exclude: object = None, limit: float | None = None) -> None:
    """Deliver what adapters of user stores hold (a user store may write into ours).

    Args:
        exclude: A store not to flush (the one closing).
        limit: Seconds to wait at most; a hanging user store is logged, not waited out.
    """
    pending = [a.flush() for a in list(_ADAPTERS) if a is not exclude]
    waiting = [t for t in _WAITING_PUTS if t.get_loop() is asyncio.get_running_loop()]
    if not pending and not waiting:
        return
    try:
        async with asyncio.timeout(limit):
            if waiting:
                await asyncio.gather(*waiting, return_exceptions=True)
            await asyncio.gather(*pending)
    except TimeoutError:
        _log().warning("user eval stores took over {} s to take their records; going on", limit)


def live_stores() -> Iterable[BufferedStore]:
    """Every built-in store still referenced."""
    return list(_LIVE_STORES)


@atexit.register
def _flush_everything_at_exit() -> None:
    # Adapters first: they may hand records on to file stores.
    stores = sorted(live_stores(), key=lambda s: s not in _ADAPTERS)
    for store in stores:
        store._at_exit()
