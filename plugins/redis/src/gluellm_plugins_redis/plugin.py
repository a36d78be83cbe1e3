"""Hook implementations: rate limits shared through Redis. Nothing heavy is imported here.

Cooperation with the aiolimiter plugin: both implement ``get_rate_limiter`` (a
firstresult hook). This one runs first (``tryfirst``) and answers only when
``GLUELLM_RATE_LIMIT_BACKEND=redis``, with the aiolimiter plugin's own layer (key pools
included) built on the Redis permit backend; otherwise it returns None and the
aiolimiter plugin answers with in-memory permits.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

if TYPE_CHECKING:
    from gluellm.config import Settings
    from gluellm.runtime import Runtime


@functools.cache
def _builder() -> Callable[[ModelCall, Settings], CallMiddleware | None]:
    # Imported on first use (redis-py stays out of `import gluellm`), then cached.
    from gluellm_plugins_redis.backend import redis_rate_limiter

    return redis_rate_limiter


@hookimpl(tryfirst=True)
def get_rate_limiter(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """With the redis backend selected, limit each attempt through Redis."""
    settings = runtime.settings
    if settings.rate_limit_backend != "redis" or not settings.rate_limit_enabled:
        return None
    from gluellm_plugins_aiolimiter.middleware import build_rate_limiter
    from gluellm_plugins_redis.backend import redis_backend

    return build_rate_limiter(call, settings, redis_backend(settings.rate_limit_redis_url))


@hookimpl
def shutdown(runtime: Runtime) -> Awaitable[None] | None:
    """Close this event loop's Redis connections, if any were opened."""
    if "gluellm_plugins_redis.backend" not in sys.modules:
        return None  # never used: nothing to close, and no reason to import redis
    from gluellm_plugins_redis.backend import aclose_all

    return aclose_all()
