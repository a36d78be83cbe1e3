"""Limits, the permit-backend contract, and the in-memory backend.

A *limit* is "R requests per minute with a burst of B" for one *scope* (a provider, a
key of a pool, or a name the caller chose), enforced as a sliding window (see
`gluellm_plugins_aiolimiter.window`). A *backend* hands out permits for limits: the
in-memory `LocalBackend` here keeps one process-wide window per limit, and the Redis
plugin provides a backend whose windows are shared between processes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import attrs

from gluellm_plugins_aiolimiter.window import Clock, SlidingWindow

T = TypeVar("T")


@attrs.frozen(cache_hash=True)
class Limit:
    """How many permits one scope may take: a sliding window with a burst.

    At most ``requests`` admissions in any window of ``period_s`` seconds, and at most
    ``burst`` in any window of `burst_period_s` (``period_s * burst / requests``): the
    burst goes at once, the next burst once the first has aged that long. Driven flat
    out at 60 per minute with burst 10: 10 at 0 s, 10 at 10 s, ... 60 in the first
    minute, and never 61 in any 60 seconds. A burst above ``requests`` is capped to it.

    Attributes:
        scope: What the limit applies to, e.g. ``provider:openai``; backends keep one
            window per limit (scope and numbers), so changing a setting starts a fresh
            window instead of reinterpreting an old one.
        requests: How many requests any window of ``period_s`` seconds may hold.
        burst: How many may go at once.
        period_s: The window's length: 60 seconds for the per-minute limits GlueLLM
            configures (tests shorten it to check the semantics quickly).
    """

    scope: str
    requests: int = attrs.field(validator=attrs.validators.ge(1))
    burst: int = attrs.field(validator=attrs.validators.ge(1))
    period_s: float = attrs.field(default=60.0, validator=attrs.validators.gt(0.0))

    @property
    def requests_per_minute(self) -> float:
        """The sustained rate, per minute."""
        return self.requests * 60.0 / self.period_s

    @property
    def effective_burst(self) -> int:
        """The burst, capped at ``requests`` (a window cannot hold more)."""
        return min(self.burst, self.requests)

    @property
    def burst_period_s(self) -> float:
        """Seconds in which at most a burst is admitted (``period_s * burst / requests``)."""
        return self.period_s * self.effective_burst / self.requests


class PermitBackend(Protocol):
    """Hands out permits for limits. Implementations must be safe to share between loops."""

    async def acquire(self, limit: Limit) -> None:
        """Wait until a permit for ``limit`` is free, and take it."""
        ...

    async def try_acquire(self, limit: Limit) -> bool:
        """Take a permit for ``limit`` if one is free right now; never wait for one."""
        ...


class PerLoop(Generic[T]):
    """One lazily built value per running event loop.

    asyncio objects (locks, redis-py's connections) belong to the loop that first used
    them, so code that runs under several loops (``asyncio.run`` per
    request, one loop per thread, one per test) needs one of each per loop. Entries of
    closed loops are dropped when a new loop appears, so the cache does not grow with
    every ``asyncio.run``.

    Args:
        factory: Builds the value for a loop; called inside that loop.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: dict[asyncio.AbstractEventLoop, T] = {}
        self._lock = threading.Lock()

    def get(self) -> T:
        """The value for the running loop, built on first use."""
        loop = asyncio.get_running_loop()
        try:
            return self._values[loop]
        except KeyError:
            pass
        with self._lock:  # loops in other threads may insert at the same moment
            value = self._values.get(loop)
            if value is None:
                value = self._factory()
                self._values = {
                    other: kept for other, kept in self._values.items() if not other.is_closed()
                }
                self._values[loop] = value
            return value

    def pop(self) -> T | None:
        """Forget (and return) the value of the running loop, if any."""
        with self._lock:
            return self._values.pop(asyncio.get_running_loop(), None)

    def discard(self, value: T) -> None:
        """Forget the running loop's value if it is ``value`` (the next `get` builds anew)."""
        with self._lock:
            loop = asyncio.get_running_loop()
            if self._values.get(loop) is value:
                del self._values[loop]

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values = {}


class LocalBackend:
    """Permits kept in this process: one window per limit, shared by every loop and thread.

    The windows are process-wide, so a program that runs ``asyncio.run()`` per request,
    or one loop per thread, is limited as a whole. Waiting is per loop: each loop queues
    its waiters first come, first served, and only the head of each queue polls.

    Args:
        clock: Where admission times come from (tests inject a fake one).
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[Limit, SlidingWindow] = {}
        self._lock = threading.Lock()
        self._queues: PerLoop[dict[Limit, asyncio.Lock]] = PerLoop(dict)

    def window(self, limit: Limit) -> SlidingWindow:
        """The process-wide window of ``limit``."""
        window = self._windows.get(limit)
        if window is None:
            with self._lock:
                window = self._windows.setdefault(limit, SlidingWindow(limit, self._clock))
        return window

    async def acquire(self, limit: Limit) -> None:
        """Wait for a permit; callers already waiting for this limit go first."""
        window = self.window(limit)
        if window.waiting == 0 and window.take() == 0.0:
            return
        window.enter()
        try:
            queues = self._queues.get()
            queue = queues.get(limit)
            if queue is None:
                queue = queues[limit] = asyncio.Lock()
            async with queue:
                # Polling on purpose: what frees a permit is time passing (and other
                # threads' admissions), which no event of this loop can signal.
                while (wait := window.take()) > 0.0:  # noqa: ASYNC110
                    await asyncio.sleep(wait)
        finally:
            window.leave()

    async def try_acquire(self, limit: Limit) -> bool:
        """Take a permit only if one is free now and nobody is waiting for one."""
        window = self.window(limit)
        return window.waiting == 0 and window.take() == 0.0

    def reset(self) -> None:
        """Forget every window (tests; a changed configuration)."""
        with self._lock:
            self._windows = {}
        self._queues.clear()


_local = LocalBackend()


def local_backend() -> LocalBackend:
    """The process-wide in-memory backend."""
    return _local
