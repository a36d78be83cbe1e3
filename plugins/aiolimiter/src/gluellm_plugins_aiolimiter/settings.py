"""The settings the rate-limit plugin reads: the spec's ``GLUELLM_RATE_LIMIT_*`` fields."""

from __future__ import annotations

from gluellm.config import PluginSettings


class RateLimitSettings(PluginSettings):
    """Declares that this plugin reads core's ``rate_limit_*`` settings (no fields of its own)."""

    reads = (
        "rate_limit_enabled",
        "rate_limit_requests_per_minute",
        "rate_limit_burst",
        "rate_limit_backend",
        "rate_limit_redis_url",
    )
