"""Hook implementations: the in-memory rate limiter. Nothing heavy is imported here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

if TYPE_CHECKING:
    import typer

    from gluellm.config import Settings
    from gluellm.hookspecs import RegisterSettings
    from gluellm.runtime import Runtime

_warned_backend = False


@functools.cache
def _builder() -> Callable[[ModelCall, Settings], CallMiddleware | None]:
    # Imported on the first call (the limiter stays out of `import gluellm`), then cached:
    # an import statement on every call would cost more than the limiter itself.
    from gluellm_plugins_aiolimiter.middleware import local_rate_limiter

    return local_rate_limiter


@hookimpl
def get_rate_limiter(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Limit each attempt by its provider's limit, or by its key's when a pool is used.

    The Redis plugin answers first (``tryfirst``) when ``GLUELLM_RATE_LIMIT_BACKEND`` is
    ``redis``, so reaching here with that setting means the Redis plugin is missing.
    """
    settings = runtime.settings  # read per call, so reload_settings() applies
    if not settings.rate_limit_enabled:
        return None
    if settings.rate_limit_backend == "redis":
        _warn_no_redis_plugin()
    return _builder()(call, settings)


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


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the core settings this plugin reads, so GlueLLM knows they are used."""
    from gluellm_plugins_aiolimiter.settings import RateLimitSettings

    register(RateLimitSettings)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``gluellm test-rate-limiting``."""
    from gluellm_plugins_aiolimiter.cli import add_commands

    add_commands(app)
