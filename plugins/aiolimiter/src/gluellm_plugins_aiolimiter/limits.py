"""Limits, the permit-backend contract, and the in-memory backend built on aiolimiter.

A *limit* is "R requests per minute with a burst of B" for one *scope* (a provider, a
key of a pool, or a name the caller chose). A *backend* hands out permits for limits;
the in-memory `LocalBackend` here keeps one `aiolimiter.AsyncLimiter` per scope and
event loop, and the Redis plugin provides a backend whose permits are shared between
processes (falling back to this one when Redis is unreachable).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import attrs
from aiolimiter import AsyncLimiter

T = TypeVar("T")


@attrs.frozen
class Limit:
    """How many permits one scope may take.

    A limit of ``requests_per_minute`` R and ``burst`` B admits B requests at once,
    then R per minute: over ``t`` seconds of constant demand about ``B + R * t / 60``.

    Attributes:
        scope: What the limit applies to, e.g. ``provider:openai``; backends keep one
            bucket per (scope, requests_per_minute, burst), so changing a setting starts
            a fresh bucket instead of reinterpreting an old one.
        requests_per_minute: The sustained rate R.
        burst: The bucket size B: requests allowed back to back.
    """

    scope: str
    requests_per_minute: int
    burst: int

    @property
    def window_s(self) -> float:
        """Seconds in which ``burst`` permits drain at the sustained rate (``60 * B / R``)."""
        return 60.0 * self.burst / self.requests_per_minute


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

    asyncio objects (aiolimiter's limiters, redis-py's connections) belong to the loop
    that first used them, so code that runs under several loops (``asyncio.run`` per
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


def _new_limiter(limit: Limit) -> AsyncLimiter:
    # AsyncLimiter(max_rate, time_period) is a leaky bucket of size max_rate that drains
    # max_rate / time_period per second. Size B draining R/60 per second is exactly
    # "burst B, then R per minute": time_period = B / (R / 60) = 60 * B / R.
    return AsyncLimiter(limit.burst, limit.window_s)


class LocalBackend:
    """Permits kept in this process: one `AsyncLimiter` per limit and event loop."""

    def __init__(self) -> None:
        self._limiters: PerLoop[dict[Limit, AsyncLimiter]] = PerLoop(dict)

    def limiter(self, limit: Limit) -> AsyncLimiter:
        """The running loop's limiter for ``limit``."""
        limiters = self._limiters.get()
        limiter = limiters.get(limit)
        if limiter is None:
            limiter = limiters[limit] = _new_limiter(limit)
        return limiter

    async def acquire(self, limit: Limit) -> None:
        """Wait for a permit (aiolimiter queues waiters and wakes them as permits drip in)."""
        await self.limiter(limit).acquire()

    async def try_acquire(self, limit: Limit) -> bool:
        """Take a permit only if one is free now."""
        limiter = self.limiter(limit)
        if not limiter.has_capacity():
            return False
        # With capacity present, acquire() takes the permit without suspending, so no
        # other task can slip in between the check and the take.
        await limiter.acquire()
        return True

    def reset(self) -> None:
        """Forget every bucket (tests; a changed configuration)."""
        self._limiters.clear()


_local = LocalBackend()


def local_backend() -> LocalBackend:
    """The process-wide in-memory backend."""
    return _local
