"""Timeouts for many concurrent calls, at a fraction of ``asyncio.timeout``'s cost.

Every model call is bounded twice (per attempt, and the whole call retries included),
and every streamed chunk once. ``asyncio.timeout`` gives each bound a timer of the
event loop's own: a ``TimerHandle`` pushed onto the loop's heap, whose ordering is a
Python-level ``__lt__``, cancelled on exit and left in the heap until the loop cleans
it out. At 256 concurrent calls that measured 8-12 µs per bound, several times the
rest of what the pipeline does for it.

`Deadline` keeps the bounds of one event loop in one place instead: a bucket per
duration (120 s attempts, 600 s calls, ...) kept in deadline order for free, since
bounds of one duration entered later end later. Entering and leaving is an insert and
a delete in an ``OrderedDict`` (C code); the loop holds a single timer, for the
earliest deadline of all. Expiry works as ``asyncio.timeout``'s does: the task is
cancelled, and the `Deadline` that cancelled it turns the ``CancelledError`` into a
``TimeoutError`` on the way out, unless someone else cancelled the task too.

`Deadline` is a plain (not async) context manager, used inside a task::

    with Deadline(call.timeout):
        response = await transport.complete(call)
"""

from __future__ import annotations

import time
import weakref
from asyncio import AbstractEventLoop, CancelledError, TimerHandle, current_task, get_running_loop
from collections import OrderedDict
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio import Task

__all__ = ["Deadline"]

# As the event loop does: a timer may run this early on coarse clocks.
_CLOCK_RESOLUTION = time.get_clock_info("monotonic").resolution

_ENTERED, _EXPIRING, _EXPIRED, _EXITED = range(1, 5)

# Empty buckets are kept (the next bound of that duration reuses its bucket) until this
# many durations are known; then the empty ones go, and the bar doubles.
_PRUNE_AT = 16


class _LoopDeadlines:
    """The deadlines open on one event loop, and the one timer for the earliest of them."""

    __slots__ = ("__weakref__", "armed_at", "buckets", "handle", "loop", "prune_at")

    def __init__(self, loop: AbstractEventLoop) -> None:
        self.loop = loop
        self.buckets: dict[float, OrderedDict[Deadline, None]] = {}
        self.handle: TimerHandle | None = None
        self.armed_at = 0.0
        self.prune_at = _PRUNE_AT

    def add(self, deadline: Deadline) -> OrderedDict[Deadline, None]:
        bucket = self.buckets.get(deadline.seconds)
        if bucket is None:
            if len(self.buckets) >= self.prune_at:
                self._prune()
            bucket = self.buckets[deadline.seconds] = OrderedDict()
        bucket[deadline] = None
        if self.handle is None or deadline.when < self.armed_at:
            self._arm(deadline.when)
        return bucket

    def _prune(self) -> None:
        """Drop empty buckets: durations computed per call would otherwise pile up."""
        for seconds in [seconds for seconds, bucket in self.buckets.items() if not bucket]:
            del self.buckets[seconds]
        self.prune_at = max(_PRUNE_AT, 2 * len(self.buckets))

    def _arm(self, when: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.armed_at = when
        self.handle = self.loop.call_at(when, self._expire_due)

    def _expire_due(self) -> None:
        """Expire every deadline that is due; arm the timer for the next one."""
        self.handle = None
        due = self.loop.time() + _CLOCK_RESOLUTION
        earliest: float | None = None
        for seconds, bucket in list(self.buckets.items()):
            while bucket:
                deadline = next(iter(bucket))
                if deadline.when > due:
                    if earliest is None or deadline.when < earliest:
                        earliest = deadline.when
                    break
                del bucket[deadline]
                deadline._expire()
            if not bucket:
                del self.buckets[seconds]
        if earliest is not None:
            self._arm(earliest)


# The last loop asked for, first: one process usually runs one loop.
_last: tuple[AbstractEventLoop | None, _LoopDeadlines | None] = (None, None)
_per_loop: weakref.WeakKeyDictionary[AbstractEventLoop, _LoopDeadlines] = (
    weakref.WeakKeyDictionary()
)


def _deadlines_of(loop: AbstractEventLoop) -> _LoopDeadlines:
    global _last
    deadlines = _per_loop.get(loop)
    if deadlines is None:
        deadlines = _per_loop[loop] = _LoopDeadlines(loop)
    _last = (loop, deadlines)
    return deadlines


class Deadline:
    """Cancel the current task if the block runs longer than ``seconds``.

    The block then raises ``TimeoutError``, exactly as under ``asyncio.timeout``:
    nested deadlines each report their own expiry, and a cancellation from elsewhere
    stays a ``CancelledError``. One `Deadline` is entered once.

    Args:
        seconds: The longest the block may run, measured from entering it.
    """

    __slots__ = ("_bucket", "_cancelling", "_state", "_task", "seconds", "when")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.when = 0.0
        self._state = 0
        self._task: Task[object] | None = None
        self._cancelling = 0
        self._bucket: OrderedDict[Deadline, None] | None = None

    def expired(self) -> bool:
        """Whether the deadline passed while the block was running."""
        return self._state in (_EXPIRING, _EXPIRED)

    def __enter__(self) -> Deadline:
        if self._state:
            raise RuntimeError("A Deadline is entered only once; make a new one.")
        loop = get_running_loop()
        task = current_task(loop)
        if task is None:
            raise RuntimeError("A Deadline bounds a task: enter it inside one.")
        last_loop, deadlines = _last
        if last_loop is not loop or deadlines is None:
            deadlines = _deadlines_of(loop)
        self._task = task
        self._cancelling = task.cancelling()
        self._state = _ENTERED
        self.when = loop.time() + self.seconds
        self._bucket = deadlines.add(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state == _ENTERED:
            self._state = _EXITED
            if self._bucket is not None:
                self._bucket.pop(self, None)
            return
        if self._state == _EXPIRING:
            self._state = _EXPIRED
            assert self._task is not None
            # Ours to handle only if nobody else asked for a cancel since we did.
            if self._task.uncancel() <= self._cancelling and exc_type is CancelledError:
                raise TimeoutError from exc

    def _expire(self) -> None:
        if self._state != _ENTERED:
            return
        self._state = _EXPIRING
        assert self._task is not None
        self._task.cancel()

    def __repr__(self) -> str:
        states = {0: "created", _ENTERED: "active", _EXPIRING: "expiring", _EXPIRED: "expired"}
        return f"<Deadline {self.seconds:g} s [{states.get(self._state, 'finished')}]>"
