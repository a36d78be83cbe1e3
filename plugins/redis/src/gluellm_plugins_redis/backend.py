"""Permits shared through Redis: a sliding-window log per limit, kept atomic by a Lua script.

A limit of R requests per minute with burst B allows at most B requests in any window
of ``60 * B / R`` seconds. That is the in-memory limiter's burst and long-run rate
(B at once, R per minute after), enforced for every process and machine that uses the
same Redis. The window is timed by the Redis server's clock, so clients need not agree
on the time.

When Redis cannot be reached, permits come from the in-memory backend instead (one
warning), and Redis is tried again at most every `PROBE_INTERVAL_S` seconds; the first
success switches back (one info message). While Redis is down each process enforces the
limit alone, so N processes may together admit up to N times the limit: we prefer that
to failing calls.
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
from gluellm_plugins_aiolimiter.limits import Limit, LocalBackend, PerLoop, local_backend
from gluellm_plugins_aiolimiter.middleware import build_rate_limiter

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

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS[1]: the window's sorted set. ARGV: burst, window in microseconds, a unique member.
# Returns 0 when a permit was taken, else the microseconds until the oldest entry leaves
# the window (the earliest moment a permit can free up).
_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local burst = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < burst then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
    return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


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
        self.script: AsyncScript = self.client.register_script(_SLIDING_WINDOW)
        self.proven = False  # whether a command ever succeeded on this pool

    async def close_quietly(self) -> None:
        """Close the pool; errors are expected here, as Redis may be gone."""
        try:
            await self.client.aclose()
        except Exception as error:
            logger.debug("closing a Redis connection pool failed: {!r}", error)


class RedisBackend:
    """Permits shared through one Redis server, with in-memory fallback.

    Args:
        url: The Redis server (``redis://host:port/db``).
        fallback: Where permits come from while Redis is unreachable.
    """

    def __init__(self, url: str, fallback: LocalBackend) -> None:
        self.url = url
        self.fallback = fallback
        self._connections: PerLoop[_Connection] = PerLoop(lambda: _Connection(url))
        # Reachability is a property of the server, not of a loop: shared by all loops.
        self._down = False
        self._next_probe = 0.0
        self._members = itertools.count()
        self._token = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def available(self) -> bool:
        """Whether the last contact with Redis worked."""
        return not self._down

    def _should_try_redis(self) -> bool:
        if not self._down:
            return True
        now = time.monotonic()
        if now < self._next_probe:
            return False
        self._next_probe = now + PROBE_INTERVAL_S  # this caller probes; others stay local
        return True

    def _mark_down(self, error: BaseException) -> None:
        self._next_probe = time.monotonic() + PROBE_INTERVAL_S
        if self._down:
            return
        self._down = True
        logger.warning(
            "Redis at {} is unreachable ({}: {}); rate limits are kept in this process "
            "until it answers again (retrying every {:g} s).",
            redacted(self.url),
            type(error).__name__,
            error,
            PROBE_INTERVAL_S,
        )

    def _mark_up(self) -> None:
        if self._down:
            self._down = False
            logger.info(
                "Redis at {} answers again; rate limits are shared again.", redacted(self.url)
            )

    async def _take(self, limit: Limit) -> float:
        """Try for a permit in Redis: 0.0 if taken, else seconds until one may be free.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached (also TimeoutError,
                OSError).
        """
        window_us = round(limit.window_s * 1_000_000)
        key = f"{KEY_PREFIX}{limit.scope}:{limit.requests_per_minute}:{limit.burst}"
        for _ in range(2):
            connection = self._connections.get()
            member = f"{self._token}:{next(self._members)}"
            try:
                wait_us = await connection.script(keys=[key], args=[limit.burst, window_us, member])
            except _UNREACHABLE:
                # Drop the whole pool: after a Redis restart every idle connection in it is
                # dead, and each would otherwise fail one call and flap the state.
                self._connections.discard(connection)
                await connection.close_quietly()
                if not connection.proven:
                    raise  # a fresh connection failed: Redis really is unreachable
                continue  # a connection that worked before: retry once on a new pool
            connection.proven = True
            return int(wait_us) / 1_000_000
        raise RedisConnectionError(f"Redis at {redacted(self.url)} dropped two connections")

    async def try_acquire(self, limit: Limit) -> bool:
        """Take a permit if one is free now (in Redis, or locally while Redis is down)."""
        if self._should_try_redis():
            try:
                wait = await self._take(limit)
            except _UNREACHABLE as error:
                self._mark_down(error)
            else:
                self._mark_up()
                return wait == 0
        return await self.fallback.try_acquire(limit)

    async def acquire(self, limit: Limit) -> None:
        """Wait for a permit: poll Redis when the window frees up, or wait locally."""
        while True:
            if not self._should_try_redis():
                await self.fallback.acquire(limit)
                return
            try:
                wait = await self._take(limit)
            except _UNREACHABLE as error:
                self._mark_down(error)
                continue
            self._mark_up()
            if wait == 0:
                return
            # Every waiter learns the same moment; a little jitter keeps processes from
            # all arriving in the same millisecond, where one wins and the rest re-poll.
            await asyncio.sleep(wait + random.uniform(0, 0.002))

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
            backend = _backends.setdefault(url, RedisBackend(url, local_backend()))
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
