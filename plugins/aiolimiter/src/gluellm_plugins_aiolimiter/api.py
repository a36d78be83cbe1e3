"""The spec's rate-limiter API (``gluellm.rate_limiter``): named limiters you use by hand.

Example::

    from gluellm.rate_limiter import acquire_rate_limit, get_rate_limiter

    limiter = get_rate_limiter(key="my_custom_limiter", requests_per_minute=30, burst=5)
    await acquire_rate_limit("my_custom_limiter", rate_limiter=limiter)
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Literal

import attrs

from gluellm_plugins_aiolimiter.limits import Limit, PermitBackend, local_backend

if TYPE_CHECKING:
    from gluellm.config import Settings

Backend = Literal["memory", "redis"]

REDIS_INSTALL_HINT = "pip install gluellm-plugins-redis"


def _settings() -> Settings:
    # The current runtime's settings, read at each use so reload_settings() applies.
    from gluellm.runtime import get_runtime

    return get_runtime().settings


def backend_named(name: Backend, redis_url: str | None = None) -> PermitBackend:
    """The permit backend called ``name``; ``redis`` needs gluellm-plugins-redis.

    Raises:
        ImportError: ``redis`` was asked for and the Redis plugin is not installed.
        ValueError: ``name`` is not a known backend.
    """
    if name == "memory":
        return local_backend()
    if name == "redis":
        try:
            from gluellm_plugins_redis.backend import redis_backend
        except ImportError as error:
            raise ImportError(
                "The redis rate-limit backend needs the Redis plugin. Install it with: "
                f"{REDIS_INSTALL_HINT}"
            ) from error
        return redis_backend(redis_url or _settings().rate_limit_redis_url)
    raise ValueError(f"Unknown rate-limit backend {name!r}; use 'memory' or 'redis'.")


@attrs.frozen
class RateLimiter:
    """A named limit and where its permits come from. Usable from any event loop.

    Limiters with the same key, rate, burst and backend share their permits, also when
    built separately, from every event loop and thread of the process (and, with the
    redis backend, across processes). At most ``requests_per_minute`` permits in any
    60 seconds, at most ``burst`` at once (see `Limit`).

    Attributes:
        key: The limiter's name.
        requests_per_minute: At most this many permits in any 60 seconds.
        burst: At most this many at once (in any ``60 * burst / requests_per_minute`` s).
        backend: ``memory`` (this process) or ``redis`` (shared).
        redis_url: The Redis server, for the redis backend.
    """

    key: str
    requests_per_minute: int
    burst: int
    backend: Backend = "memory"
    redis_url: str | None = None

    @property
    def limit(self) -> Limit:
        """The limit this limiter enforces."""
        return Limit(f"custom:{self.key}", self.requests_per_minute, self.burst)

    def _backend(self) -> PermitBackend:
        return backend_named(self.backend, self.redis_url)

    async def acquire(self) -> None:
        """Wait for a permit and take it."""
        await self._backend().acquire(self.limit)

    async def try_acquire(self) -> bool:
        """Take a permit if one is free now; never wait."""
        return await self._backend().try_acquire(self.limit)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def get_rate_limiter(
    key: str = "default",
    requests_per_minute: int | None = None,
    burst: int | None = None,
    backend: Backend | None = None,
    redis_url: str | None = None,
) -> RateLimiter:
    """A limiter named ``key``; unset arguments come from the ``GLUELLM_RATE_LIMIT_*`` settings.

    Args:
        key: The limiter's name; limiters with the same name and limits share permits.
        requests_per_minute: Most permits in any 60 s; default
            ``GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE``.
        burst: Most permits at once; default ``GLUELLM_RATE_LIMIT_BURST``.
        backend: ``memory`` or ``redis``; default ``GLUELLM_RATE_LIMIT_BACKEND``.
        redis_url: Redis server for the redis backend; default ``GLUELLM_RATE_LIMIT_REDIS_URL``.

    Raises:
        ValueError: A rate or burst below 1, or an unknown backend.
    """
    settings = _settings()
    rpm = (
        settings.rate_limit_requests_per_minute
        if requests_per_minute is None
        else requests_per_minute
    )
    size = settings.rate_limit_burst if burst is None else burst
    if rpm < 1 or size < 1:
        raise ValueError("requests_per_minute and burst must be at least 1.")
    chosen: Backend = backend or settings.rate_limit_backend
    if chosen not in ("memory", "redis"):
        raise ValueError(f"Unknown rate-limit backend {chosen!r}; use 'memory' or 'redis'.")
    return RateLimiter(key, rpm, size, chosen, redis_url)


async def acquire_rate_limit(key: str = "default", rate_limiter: RateLimiter | None = None) -> None:
    """Wait for a permit of ``rate_limiter`` (by default the limiter named ``key``).

    Does nothing while ``GLUELLM_RATE_LIMIT_ENABLED`` is false.

    Args:
        key: The limiter's name, used when ``rate_limiter`` is not given.
        rate_limiter: The limiter to take a permit from.
    """
    if not _settings().rate_limit_enabled:
        return
    await (rate_limiter or get_rate_limiter(key)).acquire()
