"""GlueLLM plugin: transparent rate limiting (sliding window with a burst) and API-key pools.

Importing this package is cheap: the names below load their modules on first access.
The hooks live in `gluellm_plugins_aiolimiter.plugin`; the spec's ``gluellm.rate_limiter``
API is `gluellm_plugins_aiolimiter.api`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_aiolimiter.api import (
        RateLimiter,
        acquire_rate_limit,
        backend_named,
        get_rate_limiter,
    )
    from gluellm_plugins_aiolimiter.limits import (
        Limit,
        LocalBackend,
        PerLoop,
        PermitBackend,
        local_backend,
    )
    from gluellm_plugins_aiolimiter.middleware import (
        build_rate_limiter,
        key_id,
        pool_keys,
        reset_pool_state,
    )
    from gluellm_plugins_aiolimiter.window import SlidingWindow

_EXPORTS = {
    "RateLimiter": "api",
    "acquire_rate_limit": "api",
    "backend_named": "api",
    "get_rate_limiter": "api",
    "Limit": "limits",
    "LocalBackend": "limits",
    "PerLoop": "limits",
    "PermitBackend": "limits",
    "local_backend": "limits",
    "build_rate_limiter": "middleware",
    "key_id": "middleware",
    "pool_keys": "middleware",
    "reset_pool_state": "middleware",
    "SlidingWindow": "window",
}

__all__ = [
    "Limit",
    "LocalBackend",
    "PerLoop",
    "PermitBackend",
    "RateLimiter",
    "SlidingWindow",
    "acquire_rate_limit",
    "backend_named",
    "build_rate_limiter",
    "get_rate_limiter",
    "key_id",
    "local_backend",
    "pool_keys",
    "reset_pool_state",
    "reset_state",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def reset_state() -> None:
    """Forget every window, key cooldown and removed key of this process (for tests)."""
    from gluellm_plugins_aiolimiter.limits import local_backend
    from gluellm_plugins_aiolimiter.middleware import reset_pool_state

    local_backend().reset()
    reset_pool_state()
