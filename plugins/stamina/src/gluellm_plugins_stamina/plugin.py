"""Hook implementations of the retry plugin.

Kept tiny on purpose: stamina (and tenacity under it) are imported on the first model
call, never at ``import gluellm`` or ``gluellm --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm import hookimpl
from gluellm.call import CallMiddleware, ModelCall

if TYPE_CHECKING:
    from gluellm.config import Settings
    from gluellm.hookspecs import RegisterSettings
    from gluellm.runtime import Runtime
    from gluellm_plugins_stamina._retrier import Retrier, RetryPolicy

# The last settings object a policy was built from, that policy, and the Retrier class
# (an import statement per call costs µs too). Settings are replaced, never changed in
# place (`reload_settings`, `Runtime(settings=...)`), so the same object means the same
# policy: rebuilding it per call cost a few µs.
_last_policy: tuple[Settings, RetryPolicy, type[Retrier]] | None = None


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
    global _last_policy
    settings = runtime.settings
    cached = _last_policy
    if cached is None or cached[0] is not settings:
        from gluellm_plugins_stamina._retrier import Retrier, RetryPolicy

        cached = _last_policy = (settings, RetryPolicy.from_settings(settings), Retrier)
    _, policy, retrier_class = cached
    if policy.max_attempts <= 1:
        return None
    return retrier_class(runtime, policy)


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the core settings this plugin reads, so GlueLLM knows they are used."""
    from gluellm_plugins_stamina.settings import RetrySettings

    register(RetrySettings)
