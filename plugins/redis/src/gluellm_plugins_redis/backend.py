"""Permits shared through Redis: the sliding window with a burst, decided atomically in Lua.

Every process and machine that uses the same Redis shares one window per limit (see
`gluellm_plugins_redis.script`), timed by the Redis server's clock. Waiters queue per
event loop, first come first served; the head of each queue asks Redis again when the
window says a permit may free up.

When Redis cannot be reached, permits come from this process's copy of the window (one
warning), which already holds every permit the process took from Redis, so an outage
never hands out a fresh burst. Redis is tried again at most every `PROBE_INTERVAL_S`
seconds, and waiters wake at that moment too, so they go back to Redis as soon as it
answers (one info message). The permits admitted locally meanwhile are written into
Redis by the first script that reaches it, and after any failed command the process
also rewrites the permits Redis granted it (a restart may have lost them): see
`gluellm_plugins_redis.journal`. So one process never exceeds the limit across outages
and restarts; while Redis is down, N processes each enforce it alone (up to N times
the limit together), which we prefer to failing calls.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import threading
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gluellm.call import CallMiddleware, ModelCall
from gluellm_plugins_aiolimiter.limits import Limit, PerLoop
from gluellm_plugins_aiolimiter.middleware import build_rate_limiter
from gluellm_plugins_aiolimiter.window import Clock
from gluellm_plugins_redis.journal import Journal
from gluellm_plugins_redis.script import SLIDING_WINDOW

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from gluellm.config import Settings

KEY_PREFIX = "gluellm:ratelimit:"
"""Prefix of every Redis key this backend writes (one sorted set per limit)."""

PROBE_INTERVAL_S = 2.0
"""While Redis is unreachable, how often a permit request tries it again."""

CONNECT_TIMEOUT_S = 0.5
"""Bounds how long a call can stall on an unreachable Redis before falling back."""

COMMAND_TIMEOUT_S = 1.0

JITTER_S = 0.002
"""Waiters of several processes learn the same moment; this keeps them from colliding."""

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def redis_key(limit: Limit) -> str:
    """The sorted set that holds ``limit``'s window."""
    return f"{KEY_PREFIX}{limit.scope}:{limit.requests}/{limit.period_s:g}s:{limit.burst}"


def redacted(url: str) -> str:
    """``url`` without its password, for log messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=f"{user}{host}{port}").geturl()


class _Connection:
    """One event loop's client (with its own connection pool) and registered script."""

    def __init__(self, url: str) -> None:
        # No redis-py retries: an unreachable Redis must fail fast so the call falls back
        # to local limits at once instead of sleeping through reconnection backoff.
        self.client: Redis = Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self.script: AsyncScript = self.client.register_script(SLIDING_WINDOW)
        self.proven = False  # whether a command ever succeeded on this pool

    async def close_quietly(self) -> None:
        """Close the pool; errors are expected here, as Redis may be gone."""
        try:
            await self.client.aclose()
        except Exception as error:
            logger.debug("closing a Redis connection pool failed: {!r}", error)


class RedisBackend:
    """Permits shared through one Redis server, with a local fallback that Redis learns of.

    Args:
        url: The Redis server (``redis://host:port/db``).
        clock: Where local admission times come from (tests inject a fake one).
        probe_interval_s: While Redis is unreachable, how often it is tried again
            (default `PROBE_INTERVAL_S`).
    """

    def __init__(
        self, url: str, clock: Clock = time.monotonic, probe_interval_s: float | None = None
    ) -> None:
        self.url = url
        self._clock = clock
        self._probe_interval = PROBE_INTERVAL_S if probe_interval_s is None else probe_interval_s
        self._connections: PerLoop[_Connection] = PerLoop(lambda: _Connection(url))
        self._queues: PerLoop[dict[Limit, asyncio.Lock]] = PerLoop(dict)
        self._journals: dict[Limit, tuple[Journal, str, list[int]]] = {}
        self._lock = threading.Lock()
        # Reachability is a property of the server, not of a loop: shared by all loops.
        self._down = False
        self._next_probe = 0.0
        self._failures = itertools.count(1)
        self._epoch = 0  # failed commands so far: Redis may have lost data since
        self._members = itertools.count()
        self._token = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def available(self) -> bool:
        """Whether the last contact with Redis worked."""
        return not self._down

    def journal(self, limit: Limit) -> Journal:
        """This process's record of ``limit``'s recent admissions."""
        return self._entry(limit)[0]

    def _entry(self, limit: Limit) -> tuple[Journal, str, list[int]]:
        entry = self._journals.get(limit)
        if entry is None:
            with self._lock:
                entry = self._journals.get(limit)
                if entry is None:
                    args = [
                        limit.requests,
                        limit.effective_burst,
                        round(limit.period_s * 1_000_000),
                        round(limit.burst_period_s * 1_000_000),
                    ]
                    journal = Journal(limit, self._epoch, self._clock)
                    entry = self._journals[limit] = (journal, redis_key(limit), args)
        return entry

    def _should_try_redis(self) -> bool:
        if not self._down:
            return True
        now = time.monotonic()
        if now < self._next_probe:
            return False
        self._next_probe = now + self._probe_interval  # this caller probes; others stay local
        return True

    def _mark_down(self, error: BaseException) -> None:
        self._next_probe = time.monotonic() + self._probe_interval
        if self._down:
            return
        self._down = True
        logger.warning(
            "Redis at {} is unreachable ({}: {}); rate limits are kept in this process "
            "until it answers again (retrying every {:g} s).",
            redacted(self.url),
            type(error).__name__,
            error,
            self._probe_interval,
        )

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            logger.info(
                "Redis at {} answers again; rate limits are shared again.", redacted(self.url)
            )

    async def _take(self, limit: Limit) -> float:
        """Try for a permit in Redis: 0.0 if taken, else seconds until one may be free.

        The script also writes what the journal says Redis is missing.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached (also TimeoutError,
                OSError).
        """
        journal, key, args = self._entry(limit)
        for _ in range(2):
            connection = self._connections.get()
            member = f"{self._token}:{next(self._members)}"
            replay = journal.replay(self._epoch)
            argv: list[str | int] = [*args, member, 0 if replay is None else replay.count]
            if replay is not None:
                argv += replay.args
            try:
                wait_us, now_us = await connection.script(keys=[key], args=argv)
            except _UNREACHABLE:
                # Redis may have restarted and lost its windows: the next script that
                # reaches it rewrites what this process was granted.
                self._epoch = next(self._failures)
                # Drop the whole pool: after a Redis restart every idle connection in it is
                # dead, and each would otherwise fail one call and flap the state.
                self._connections.discard(connection)
                await connection.close_quietly()
                if not connection.proven:
                    raise  # a fresh connection failed: Redis really is unreachable
                continue  # a connection that worked before: retry once on a new pool
            connection.proven = True
            if replay is not None:
                journal.replayed(replay, int(now_us))
            if wait_us == 0:
                journal.granted(member, int(now_us))
                return 0.0
            return int(wait_us) / 1_000_000
        raise RedisConnectionError(f"Redis at {redacted(self.url)} dropped two connections")

    async def _try(self, limit: Limit) -> float:
        """One attempt at a permit, in Redis or locally: 0.0 if taken, else seconds to wait."""
        if self._should_try_redis():
            try:
                wait = await self._take(limit)
            except _UNREACHABLE as error:
                self._mark_down(error)
            else:
                self._mark_up()
                return wait
        wait = self.journal(limit).take_local(f"{self._token}:{next(self._members)}")
        if wait > 0.0:
            # Wake for the next probe too, so waiters go back to Redis once it answers.
            wait = min(wait, max(self._next_probe - time.monotonic(), JITTER_S))
        return wait

    async def try_acquire(self, limit: Limit) -> bool:
        """Take a permit if one is free now (in Redis, or locally while Redis is down)."""
        return self.journal(limit).window.waiting == 0 and await self._try(limit) == 0.0

    async def acquire(self, limit: Limit) -> None:
        """Wait for a permit; callers of this loop already waiting for it go first."""
        window = self.journal(limit).window
        if window.waiting == 0 and await self._try(limit) == 0.0:
            return
        window.enter()
        try:
            queues = self._queues.get()
            queue = queues.get(limit)
            if queue is None:
                queue = queues[limit] = asyncio.Lock()
            async with queue:
                # Polling on purpose: permits free up as time passes, in other processes.
                while (wait := await self._try(limit)) > 0.0:  # noqa: ASYNC110
                    await asyncio.sleep(wait + random.uniform(0, JITTER_S))
        finally:
            window.leave()

    async def aclose(self) -> None:
        """Close the running loop's connection pool (a later call opens a new one)."""
        connection = self._connections.pop()
        if connection is not None:
            await connection.client.aclose()


_backends: dict[str, RedisBackend] = {}
_backends_lock = threading.Lock()


def redis_backend(url: str) -> RedisBackend:
    """The process-wide backend for the Redis server at ``url``."""
    backend = _backends.get(url)
    if backend is None:
        with _backends_lock:
            backend = _backends.setdefault(url, RedisBackend(url))
    return backend


def redis_rate_limiter(call: ModelCall, settings: Settings) -> CallMiddleware | None:
    """The aiolimiter plugin's layer (key pools included) with permits shared through Redis."""
    return build_rate_limiter(call, settings, redis_backend(settings.rate_limit_redis_url))


async def aclose_all() -> None:
    """Close the running loop's connections to every Redis server used so far."""
    for backend in list(_backends.values()):
        try:
            await backend.aclose()
        except Exception:
            logger.exception("closing the Redis connection to {} failed", redacted(backend.url))


def reset_backends() -> None:
    """Forget every backend and its reachability state (tests)."""
    with _backends_lock:
        _backends.clear()
