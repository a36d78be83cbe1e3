"""API-key pool configuration, shared by the rate-limit plugin and batch processing."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class APIKeyConfig(BaseModel):
    """One API key of a pool, with its own limits.

    Args:
        key: The API key; kept secret in reprs, logs and records.
        provider: The provider it belongs to (``openai``, ``anthropic`` ...).
        requests_per_minute: This key's limit; None uses ``GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE``.
        burst: Requests this key may make at once; None uses ``GLUELLM_RATE_LIMIT_BURST``.
    """

    key: SecretStr
    provider: str
    requests_per_minute: int | None = Field(default=None, ge=1)
    burst: int | None = Field(default=None, ge=1)

    @property
    def fingerprint(self) -> str:
        """A printable name for the key that does not reveal it (``...last4``)."""
        return f"{self.provider}:...{self.key.get_secret_value()[-4:]}"
