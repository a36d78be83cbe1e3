"""What one process knows of a limit's recent admissions, so Redis outages cannot leak permits.

Every admission this process makes under a limit, whether Redis granted it or the local
fallback did, lands in the limit's `Journal`: in its sliding window (the fallback
decides with it while Redis is unreachable, so an outage does not hand out a fresh
burst) and in a list of entries that can be replayed into Redis:

- an admission made locally has no place in Redis yet; the next script that reaches
  Redis writes it there, placed by its age, before deciding the next permit;
- after any failed Redis command the server may have restarted and lost the window,
  so the next script also rewrites the admissions Redis granted (same members and
  scores, ``ZADD NX``: nothing is counted twice when Redis kept them).

A journal is shared by every loop and thread of the process, guarded by its window's
lock, and holds one period's entries at most.
"""

from __future__ import annotations

from collections import deque

import attrs

from gluellm_plugins_aiolimiter.limits import Limit
from gluellm_plugins_aiolimiter.window import Clock, SlidingWindow


@attrs.define(slots=True)
class _Entry:
    local_s: float  # when this process saw the admission, on its monotonic clock
    member: str  # its member in the Redis sorted set
    server_us: int | None  # its score in Redis; None while only this process knows it


@attrs.frozen
class Replay:
    """Entries to write into Redis with the next script, and what they were built from.

    Attributes:
        epoch: The backend's failure count when the replay was built.
        full: Whether the admissions Redis granted are rewritten too.
        args: The script's replay arguments (member, value, kind triples, flattened).
        local: The locally admitted entries sent, each with the age it was sent with.
    """

    epoch: int
    full: bool
    args: list[str | int]
    local: list[tuple[_Entry, int]]

    @property
    def count(self) -> int:
        """How many entries the replay writes."""
        return len(self.args) // 3


class Journal:
    """One limit's recent admissions in this process, for a Redis-backed backend.

    Args:
        limit: The limit.
        epoch: The backend's failure count now (nothing to rewrite before it changes).
        clock: Where admission times come from.

    Attributes:
        window: The local sliding window, holding every admission of this process.
        synced_epoch: The backend failure count at the last full rewrite.
    """

    def __init__(self, limit: Limit, epoch: int, clock: Clock) -> None:
        self.window = SlidingWindow(limit, clock)
        self.synced_epoch = epoch
        self._period = limit.period_s
        self._entries: deque[_Entry] = deque()
        self._unsynced = 0

    def take_local(self, member: str) -> float:
        """Admit one request locally if the window allows it (Redis unreachable).

        Returns:
            0.0 when admitted (and journaled for replay), else seconds until a permit
            may free up.
        """
        window = self.window
        with window.lock:
            now = window.clock()
            wait = window.wait_at(now)
            if wait > 0.0:
                return wait
            window.add(now)
            self._append(_Entry(now, member, None), now)
            self._unsynced += 1
            return 0.0

    def granted(self, member: str, server_us: int) -> None:
        """Record an admission Redis granted as ``member`` at server time ``server_us``."""
        window = self.window
        with window.lock:
            now = window.clock()
            window.add(now)
            self._append(_Entry(now, member, server_us), now)

    def _append(self, entry: _Entry, now: float) -> None:
        entries = self._entries
        horizon = now - self._period
        while entries and entries[0].local_s <= horizon:
            old = entries.popleft()
            if old.server_us is None:  # too old to matter to Redis any more
                old.server_us = 0
                self._unsynced -= 1
        entries.append(entry)

    def replay(self, epoch: int) -> Replay | None:
        """What Redis may be missing, given the backend's failure count ``epoch``.

        Returns:
            None when Redis has everything (the common case, decided without the lock).
        """
        full = self.synced_epoch != epoch
        if not full and self._unsynced == 0:
            return None
        window = self.window
        args: list[str | int] = []
        local: list[tuple[_Entry, int]] = []
        with window.lock:
            now = window.clock()
            horizon = now - self._period
            for entry in self._entries:
                if entry.local_s <= horizon:
                    continue
                if entry.server_us is None:
                    age_us = round((now - entry.local_s) * 1_000_000)
                    args += [entry.member, age_us, "a"]
                    local.append((entry, age_us))
                elif full:
                    args += [entry.member, entry.server_us, "t"]
        return Replay(epoch, full, args, local)

    def replayed(self, replay: Replay, server_now_us: int) -> None:
        """Note that ``replay`` was written by a script that ran at ``server_now_us``."""
        with self.window.lock:
            for entry, age_us in replay.local:
                if entry.server_us is None:
                    entry.server_us = server_now_us - age_us  # where the script put it
                    self._unsynced -= 1
            if replay.full:
                self.synced_epoch = max(self.synced_epoch, replay.epoch)
