"""Hook implementations of the retry plugin.

Kept tiny on purpose: stamina (and tenacity under it) are imported on the first model
call, never at ``import gluellm`` or ``gluellm --help``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

if TYPE_CHECKING:
    from gluellm.config import Settings
    from gluellm.hookspecs import RegisterSettings
    from gluellm.runtime import Runtime
    from gluellm_plugins_stamina._retrier import Retrier

# The last settings object and runtime a retrier was built for, and that retrier (a
# Retrier keeps no per-call state). Settings are replaced, never changed in place
# (`reload_settings`, `Runtime(settings=...)`), so the same object means the same
# policy: rebuilding it per call cost a few µs.
# The runtime is held weakly: a module global must not keep a discarded runtime alive.
_last_retrier: tuple[Settings, weakref.ref[Runtime], Retrier | None] | None = None


@hookimpl
def get_retrier(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Retry ``call`` with exponential backoff and jitter, honouring Retry-After.

    Args:
        call: The call about to be made.
        runtime: The runtime making the call: its settings and ``on_retry`` observers.

    Returns:
        The retry middleware, or None when ``GLUELLM_RETRY_MAX_ATTEMPTS`` is 1, so a
        call that may not be retried pays nothing for this layer.
    """
    # Resolved per call, not at registration: settings may be reloaded between calls;
    # the policy is rebuilt only when the runtime's settings object changed.
    global _last_retrier
    settings = runtime.settings
    cached = _last_retrier
    if cached is not None and cached[0] is settings and cached[1]() is runtime:
        return cached[2]
    from gluellm_plugins_stamina._retrier import Retrier, RetryPolicy

    policy = RetryPolicy.from_settings(settings)
    retrier = Retrier(runtime, policy) if policy.max_attempts > 1 else None
    _last_retrier = (settings, weakref.ref(runtime), retrier)
    return retrier


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the core settings this plugin reads, so GlueLLM knows they are used."""
    from gluellm_plugins_stamina.settings import RetrySettings

    register(RetrySettings)
