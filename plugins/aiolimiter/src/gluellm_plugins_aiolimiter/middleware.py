"""The rate-limiting pipeline layer, and API-key pools.

`build_rate_limiter` returns the layer for one call. Without a pool, each attempt waits
for a permit of its provider's limit. With a pool (``call.api_keys`` holding
`APIKeyConfig` objects for the call's provider), each attempt waits for a permit of one
of the pool's keys and is sent with that key:

- keys with a free permit are used least-recently-used first, which spreads load evenly;
- when every key is exhausted, the attempt queues on the key whose queue drains first
  (fewest waiters per unit of rate), which is where a permit frees up first;
- a key answered with `RateLimitError` cools down for the error's ``retry_after``, and
  a key answered with `AuthenticationError` leaves the pool for good (a warning names its
  fingerprint, never the key). Either way the attempt is re-sent at once with another
  key of the pool, each key at most once per attempt: a pool exists so that one key's
  trouble does not reach the caller. When every key has answered 429, the last
  `RateLimitError` goes to the retry layer; when no key is left, `AuthenticationError`.

Key health (removed, cooling down) is process-wide; limiter objects and queue lengths
belong to one event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from loguru import logger

from gluellm.call import CallHandler, CallMiddleware, ModelCall, ModelResponse
from gluellm.errors import AuthenticationError, RateLimitError
from gluellm.models.batch import APIKeyConfig
from gluellm_plugins_aiolimiter.limits import Limit, PerLoop, PermitBackend, local_backend

if TYPE_CHECKING:
    from gluellm.config import Settings

MIN_COOLDOWN_S = 1.0
"""Cooldown of a key answered 429 without a Retry-After: at least this, or one permit's time."""


def build_rate_limiter(
    call: ModelCall, settings: Settings, backend: PermitBackend
) -> CallMiddleware | None:
    """The rate-limiting layer for ``call``, or None when rate limiting is disabled.

    Args:
        call: The call about to be made.
        settings: Where ``rate_limit_*`` settings are read (at call time).
        backend: Where permits come from (in-memory or shared through Redis).
    """
    if not settings.rate_limit_enabled:
        return None
    if call.api_keys:
        keys = pool_keys(call)
        if keys:
            return _PoolLimiter(keys, settings, backend).middleware
    scope = (call.provider, settings.rate_limit_requests_per_minute, settings.rate_limit_burst)
    # One layer per provider limit and backend, reused by every call: it holds no state
    # of its own, and building a closure per call cost more than taking the permit.
    cached = _provider_layers.get(scope)
    if cached is not None and cached[0] is backend:
        return cached[1]
    layer = _provider_layer(_provider_limit(*scope), backend)
    _provider_layers[scope] = (backend, layer)
    return layer


def _provider_layer(limit: Limit, backend: PermitBackend) -> CallMiddleware:
    """The layer taking a permit of ``limit`` from ``backend`` for each attempt."""

    async def limited(call: ModelCall, send: CallHandler) -> ModelResponse:
        if _wait_explained:
            await backend.acquire(limit)
        else:
            started = time.monotonic()
            await backend.acquire(limit)
            if time.monotonic() - started >= WAIT_NOTICE_S:
                _explain_wait(limit)
        return await send(call)

    return limited


_provider_layers: dict[tuple[str, int, int], tuple[PermitBackend, CallMiddleware]] = {}


WAIT_NOTICE_S = 0.1
"""A permit wait this long is explained once per process (see `_explain_wait`)."""

_wait_explained = False


def _explain_wait(limit: Limit) -> None:
    """Say once, at INFO, that the rate limit is holding calls back and how to raise it."""
    global _wait_explained
    if _wait_explained:
        return
    _wait_explained = True
    default = " (the default)" if limit.requests_per_minute == 60 else ""
    logger.info(
        "Rate limit reached for {}: GlueLLM admits {:g} requests per minute{} with bursts "
        "of {}, so calls now wait for a free slot. Raise it with "
        "GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE (and GLUELLM_RATE_LIMIT_BURST), or turn it "
        "off with GLUELLM_RATE_LIMIT_ENABLED=false. This is said once per process.",
        limit.scope,
        limit.requests_per_minute,
        default,
        limit.effective_burst,
    )


def local_rate_limiter(call: ModelCall, settings: Settings) -> CallMiddleware | None:
    """`build_rate_limiter` with this process's in-memory permits."""
    return build_rate_limiter(call, settings, local_backend())


_provider_limits: dict[tuple[str, int, int], Limit] = {}


def _provider_limit(provider: str, rpm: int, burst: int) -> Limit:
    # Cached: this runs on every call, and a Limit is an immutable value.
    try:
        return _provider_limits[(provider, rpm, burst)]
    except KeyError:
        limit = _provider_limits[(provider, rpm, burst)] = Limit(f"provider:{provider}", rpm, burst)
        return limit


def pool_keys(call: ModelCall) -> list[APIKeyConfig]:
    """The pool's keys that belong to the call's provider (empty: no pool for this call)."""
    pool = call.api_keys
    if not pool:
        return []
    provider = call.provider.lower()
    return [k for k in pool if isinstance(k, APIKeyConfig) and k.provider.lower() == provider]


def key_id(config: APIKeyConfig) -> str:
    """A stable, non-reversible ID for a key: names its limiter scope and its health record."""
    secret = config.key.get_secret_value()
    return hashlib.sha256(f"{config.provider.lower()}\0{secret}".encode()).hexdigest()[:24]


@attrs.define
class _Health:
    """What the providers told us about a key, shared by every loop of the process."""

    removed: bool = False
    cooldown_until: float = 0.0  # time.monotonic()


@attrs.define
class _Queue:
    """A key's activity on one event loop."""

    waiting: int = 0
    last_used: int = 0


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()
_queues: PerLoop[dict[str, _Queue]] = PerLoop(dict)
_use_counter = itertools.count(1)


def _health_of(kid: str) -> _Health:
    health = _health.get(kid)
    if health is None:
        with _health_lock:
            health = _health.setdefault(kid, _Health())
    return health


def reset_pool_state() -> None:
    """Forget removed keys, cooldowns and queues (tests; after rotating keys)."""
    with _health_lock:
        _health.clear()
    _queues.clear()


@attrs.frozen
class _Key:
    config: APIKeyConfig
    id: str
    limit: Limit
    health: _Health

    @property
    def usable(self) -> bool:
        return not self.health.removed and self.health.cooldown_until <= time.monotonic()


class _PoolLimiter:
    """The layer for one call that uses a key pool."""

    def __init__(
        self, configs: Sequence[APIKeyConfig], settings: Settings, backend: PermitBackend
    ) -> None:
        self._backend = backend
        self._provider = configs[0].provider
        self._keys: list[_Key] = []
        for config in configs:
            kid = key_id(config)
            limit = Limit(
                f"key:{config.provider.lower()}:{kid}",
                config.requests_per_minute or settings.rate_limit_requests_per_minute,
                config.burst or settings.rate_limit_burst,
            )
            self._keys.append(_Key(config, kid, limit, _health_of(kid)))

    async def middleware(self, call: ModelCall, send: CallHandler) -> ModelResponse:
        """Send one attempt with a key that has a permit; switch keys on 401 and 429."""
        tried: set[str] = set()
        last_429: RateLimitError | None = None
        while True:
            key = await self._acquire(tried)
            if key is None:
                if last_429 is not None:
                    raise last_429
                raise self._no_keys_left()
            try:
                return await send(attrs.evolve(call, api_key=key.config.key.get_secret_value()))
            except AuthenticationError as error:
                key.health.removed = True
                tried.add(key.id)
                logger.warning(
                    "API key {} was rejected by {} ({}); it is taken out of the pool "
                    "(correlation ID {}).",
                    key.config.fingerprint,
                    self._provider,
                    type(error).__name__,
                    call.correlation_id,
                )
                if not any(not k.health.removed for k in self._keys):
                    raise self._no_keys_left() from error
            except RateLimitError as error:
                cooldown = error.retry_after
                if cooldown is None or cooldown <= 0:
                    cooldown = max(MIN_COOLDOWN_S, 60.0 / key.limit.requests_per_minute)
                until = time.monotonic() + cooldown
                key.health.cooldown_until = max(key.health.cooldown_until, until)
                tried.add(key.id)
                last_429 = error
                logger.info(
                    "API key {} hit {}'s rate limit; cooling down for {:.3g} s "
                    "(correlation ID {}).",
                    key.config.fingerprint,
                    self._provider,
                    cooldown,
                    call.correlation_id,
                )

    def _no_keys_left(self) -> AuthenticationError:
        names = ", ".join(k.config.fingerprint for k in self._keys)
        return AuthenticationError(
            f"No usable API key is left in the pool for provider {self._provider!r}: "
            f"every key ({names}) was rejected by the provider. Check the keys and pass "
            "working ones in api_keys=."
        )

    async def _acquire(self, tried: set[str]) -> _Key | None:
        """Wait for a permit on one of the keys not removed and not yet tried; None if none."""
        queues = _queues.get()
        while True:
            candidates = [k for k in self._keys if not k.health.removed and k.id not in tried]
            if not candidates:
                return None
            now = time.monotonic()
            ready = [k for k in candidates if k.health.cooldown_until <= now]
            if not ready:
                # Every candidate is cooling down: wait for the first to come back.
                await asyncio.sleep(min(k.health.cooldown_until for k in candidates) - now)
                continue
            states = [queues.setdefault(k.id, _Queue()) for k in ready]
            # Least recently used first: with permits on several keys, this rotates
            # through them, which is what spreads load evenly.
            order = sorted(range(len(ready)), key=lambda i: states[i].last_used)
            for i in order:
                # A key with queued waiters has none to spare; taking one here would
                # starve the tasks already waiting on it.
                if states[i].waiting == 0 and await self._backend.try_acquire(ready[i].limit):
                    states[i].last_used = next(_use_counter)
                    return ready[i]
            # All exhausted: queue where the wait is shortest, i.e. the fewest waiters per
            # unit of rate (ties: least recently used).
            best = min(
                order,
                key=lambda i: (
                    (states[i].waiting + 1) / ready[i].limit.requests_per_minute,
                    states[i].last_used,
                ),
            )
            key, state = ready[best], states[best]
            state.waiting += 1
            try:
                await self._backend.acquire(key.limit)
            finally:
                state.waiting -= 1
            state.last_used = next(_use_counter)
            if key.usable:
                return key
            # The key was rejected or rate limited while we waited: its permit is spent
            # for nothing, and we look again.
