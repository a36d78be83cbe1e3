"""The sliding window with a burst: one limit's admission log, shared by every thread.

A window admits a request at time ``t`` when both hold:

- fewer than ``requests`` admissions lie in ``(t - period, t]``, so any window of
  ``period`` seconds (60 for a per-minute limit) holds at most ``requests``;
- fewer than ``burst`` admissions lie in ``(t - burst_period, t]``, where
  ``burst_period = period * burst / requests``: at most ``burst`` go at once, and the
  next ``burst`` once the first of them is that old.

The log holds plain monotonic timestamps and is trimmed as it is read, so it never holds
more than one period's admissions. Nothing here touches an event loop: the same window
serves every loop and thread of the process, behind one `threading.Lock`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gluellm_plugins_aiolimiter.limits import Limit

Clock = Callable[[], float]
"""Seconds on a clock that never goes back (`time.monotonic` unless a test injects one)."""


class SlidingWindow:
    """The admission log of one limit.

    `take` is the whole API for in-process use. Backends that keep more per admission
    (the Redis plugin's journal) hold `lock` themselves and use `wait_at` and `add`.

    Args:
        limit: What the window enforces.
        clock: Where admission times come from.

    Attributes:
        lock: Guards the log; held by every method that reads or changes it.
        clock: The window's clock.
        waiting: Callers queued for a permit (any loop or thread); newcomers queue
            behind them instead of taking a permit that just freed up.
    """

    __slots__ = (
        "_burst",
        "_burst_period",
        "_log",
        "_period",
        "_requests",
        "clock",
        "lock",
        "waiting",
    )

    def __init__(self, limit: Limit, clock: Clock = time.monotonic) -> None:
        self._requests = limit.requests
        self._burst = limit.effective_burst
        self._period = limit.period_s
        self._burst_period = limit.burst_period_s
        self._log: deque[float] = deque()
        self.lock = threading.Lock()
        self.clock = clock
        self.waiting = 0

    def take(self) -> float:
        """Admit one request now if the limit allows it.

        Returns:
            0.0 when admitted, else the seconds until a permit may free up (a caller
            that waits that long and asks again may still lose to another caller).
        """
        with self.lock:
            now = self.clock()
            wait = self.wait_at(now)
            if wait <= 0.0:
                self._log.append(now)
                return 0.0
            return wait

    def wait_at(self, now: float) -> float:
        """Seconds from ``now`` until an admission is allowed; <= 0 means now. Hold `lock`."""
        log = self._log
        self._trim(now)
        count = len(log)
        if count < self._burst:  # burst <= requests, so both limits have room
            return 0.0
        wait = log[-self._burst] + self._burst_period - now
        if count >= self._requests:
            wait = max(wait, log[-self._requests] + self._period - now)
        return wait

    def add(self, now: float) -> None:
        """Record an admission at ``now`` whatever the limit says. Hold `lock`.

        For admissions decided elsewhere (by Redis), so that the local log still knows
        them when it has to decide alone.
        """
        self._trim(now)
        self._log.append(now)

    def _trim(self, now: float) -> None:
        log = self._log
        horizon = now - self._period
        while log and log[0] <= horizon:
            log.popleft()

    def __len__(self) -> int:
        """Admissions in the log (those of the last period, as of the last change)."""
        return len(self._log)

    def enter(self) -> None:
        """Count a caller that queues for a permit."""
        with self.lock:
            self.waiting += 1

    def leave(self) -> None:
        """Uncount a caller that got its permit or gave up."""
        with self.lock:
            self.waiting -= 1
