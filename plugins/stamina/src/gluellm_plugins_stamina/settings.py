"""The settings the retry plugin reads: the spec's ``GLUELLM_RETRY_*`` fields of core."""

from __future__ import annotations

from gluellm.config import PluginSettings


class RetrySettings(PluginSettings):
    """Declares that this plugin reads core's ``retry_*`` settings (no fields of its own)."""

    reads = ("retry_max_attempts", "retry_min_wait", "retry_max_wait", "retry_multiplier")
