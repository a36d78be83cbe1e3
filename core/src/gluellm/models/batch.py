"""API-key pool configuration, shared by the rate-limit plugin and batch processing.

The batch values (`BatchRequest`, `BatchConfig` ...) are served lazily by the
``gluellm-plugins-batch`` distribution; without it, accessing them raises an ImportError
that says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_batch.models import (
        BatchConfig,
        BatchError,
        BatchErrorStrategy,
        BatchRequest,
        BatchResponse,
        BatchResult,
        EmbeddingBatchRequest,
    )

__all__ = [
    "APIKeyConfig",
    "BatchConfig",
    "BatchError",
    "BatchErrorStrategy",
    "BatchRequest",
    "BatchResponse",
    "BatchResult",
    "EmbeddingBatchRequest",
]


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


# The batch values live in the batch plugin; the spec imports them from here too.
__getattr__, _ = reexport(
    __name__,
    "gluellm_plugins_batch",
    [name for name in __all__ if name != "APIKeyConfig"],
    "gluellm-plugins-batch",
)
