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


def eval_logger() -> Any:
    """The loguru logger, imported on first use (the plugin module stays light)."""
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
            eval_logger().warning(
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
            eval_logger().exception(
                "{}: building or redacting a record failed (correlation ID {}); not stored",
                self,
                correlation_of(source),
            )
            return None
        return record

    warn_unclosed = True
    """Warn at exit when the store was used and not closed. Stores users cannot close
    (adapters of their own stores, the store the settings build, which closes at exit
    by design) warn only when records could not be stored."""

    def _at_exit(self) -> None:
        if not self._unclosed:
            return
        try:
            flushed = self._flush_at_exit()
        except Exception:
            eval_logger().exception("{}: flushing at interpreter exit failed", self)
            flushed = 0
        lost = self.stats.pending
        if not (self.warn_unclosed or lost):
            return
        warnings.warn(
            f"{self!r} was not closed: {flushed} record(s) were flushed at interpreter exit"
            + (f", {lost} could not be" if lost else "")
            + ". Call `await store.close()` when done.",
            EvalStoreNotClosedWarning,
            stacklevel=1,
        )


# --- registries: stores alive, user stores adapted, records waiting for room ----------

_LIVE_STORES: weakref.WeakSet[BufferedStore] = weakref.WeakSet()
_ADAPTERS: weakref.WeakSet[BufferedStore] = weakref.WeakSet()
_WAITING_PUTS: set[asyncio.Task[None]] = set()


def register_adapter(adapter: BufferedStore) -> None:
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
        eval_logger().warning(
            "user eval stores took over {} s to take their records; going on", limit
        )


def live_stores() -> Iterable[BufferedStore]:
    """Every built-in store still referenced."""
    return list(_LIVE_STORES)


@atexit.register
def _flush_everything_at_exit() -> None:
    # Adapters first: they may hand records on to file stores.
    stores = sorted(live_stores(), key=lambda s: s not in _ADAPTERS)
    for store in stores:
        store._at_exit()
