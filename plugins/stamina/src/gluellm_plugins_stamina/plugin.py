"""Hook implementations of the retry plugin.

Kept tiny on purpose: stamina (and tenacity under it) are imported on the first model
call, never at ``import gluellm`` or ``gluellm --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

if TYPE_CHECKING:
    from gluellm.hookspecs import RegisterSettings
    from gluellm.runtime import Runtime


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
    from gluellm_plugins_stamina._retrier import Retrier, RetryPolicy

    # Resolved per call, not at registration: settings may be reloaded between calls.
    policy = RetryPolicy.from_settings(runtime.settings)
    if policy.max_attempts <= 1:
        return None
    return Retrier(runtime, policy)


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the core settings this plugin reads, so GlueLLM knows they are used."""
    from gluellm_plugins_stamina.settings import RetrySettings

    register(RetrySettings)
