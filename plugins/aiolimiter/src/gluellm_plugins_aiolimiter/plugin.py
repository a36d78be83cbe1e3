"""Hook implementations: the in-memory rate limiter. Nothing heavy is imported here."""

from __future__ import annotations

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

_warned_backend = False


@hookimpl
def get_rate_limiter(call: ModelCall) -> CallMiddleware | None:
    """Limit each attempt by its provider's limit, or by its key's when a pool is used.

    The Redis plugin answers first (``tryfirst``) when ``GLUELLM_RATE_LIMIT_BACKEND`` is
    ``redis``, so reaching here with that setting means the Redis plugin is missing.
    """
    from gluellm.runtime import get_runtime

    from gluellm_plugins_aiolimiter.limits import local_backend
    from gluellm_plugins_aiolimiter.middleware import build_rate_limiter

    settings = get_runtime().settings
    if settings.rate_limit_backend == "redis" and settings.rate_limit_enabled:
        _warn_no_redis_plugin()
    return build_rate_limiter(call, settings, local_backend())


def _warn_no_redis_plugin() -> None:
    global _warned_backend
    if _warned_backend:
        return
    _warned_backend = True
    from loguru import logger

    logger.warning(
        "GLUELLM_RATE_LIMIT_BACKEND=redis, but the Redis plugin is not installed or is "
        "disabled; limits are kept in this process only. Install it with: "
        "pip install gluellm-plugins-redis"
    )
