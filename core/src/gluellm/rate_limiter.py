"""The spec's rate-limiter API, served by the ``gluellm-plugins-aiolimiter`` distribution.

Example::

    from gluellm.rate_limiter import acquire_rate_limit, get_rate_limiter

    limiter = get_rate_limiter(key="my_custom_limiter", requests_per_minute=30, burst=5)
    await acquire_rate_limit("my_custom_limiter", rate_limiter=limiter)

The names load from the plugin on first access, so importing this module (or
``gluellm``) costs nothing; without the plugin, accessing them raises an ImportError
that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_aiolimiter.api import RateLimiter, acquire_rate_limit, get_rate_limiter

INSTALL_HINT = "pip install gluellm-plugins-aiolimiter"
_PLUGIN_MODULE = "gluellm_plugins_aiolimiter.api"

__all__ = ["RateLimiter", "acquire_rate_limit", "get_rate_limiter"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_PLUGIN_MODULE)
    except ImportError as error:
        raise ImportError(
            f"gluellm.rate_limiter.{name} is provided by the rate-limit plugin, which is "
            f"not installed. Install it with: {INSTALL_HINT}"
        ) from error
    value = getattr(module, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
