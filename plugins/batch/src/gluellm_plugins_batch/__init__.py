"""GlueLLM batch processing: the spec's ``batch_complete`` and friends, at scale.

Import the spec's names from ``gluellm`` (``from gluellm import batch_complete``) or
``gluellm.models.batch``; this package serves them. Names load on first access, so the
entry point (``plugin.py``) costs nothing at startup.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_batch.files import run_jsonl
    from gluellm_plugins_batch.models import (
        AnyBatchRequest,
        BatchConfig,
        BatchError,
        BatchErrorStrategy,
        BatchRequest,
        BatchResponse,
        BatchResult,
        BatchTotals,
        EmbeddingBatchRequest,
    )
    from gluellm_plugins_batch.provider import ProviderBatch, provider_batch_complete
    from gluellm_plugins_batch.runner import batch_complete, batch_complete_simple, stream_batch

_EXPORTS = {
    "AnyBatchRequest": "gluellm_plugins_batch.models",
    "BatchConfig": "gluellm_plugins_batch.models",
    "BatchError": "gluellm_plugins_batch.models",
    "BatchErrorStrategy": "gluellm_plugins_batch.models",
    "BatchRequest": "gluellm_plugins_batch.models",
    "BatchResponse": "gluellm_plugins_batch.models",
    "BatchResult": "gluellm_plugins_batch.models",
    "BatchTotals": "gluellm_plugins_batch.models",
    "EmbeddingBatchRequest": "gluellm_plugins_batch.models",
    "ProviderBatch": "gluellm_plugins_batch.provider",
    "batch_complete": "gluellm_plugins_batch.runner",
    "batch_complete_simple": "gluellm_plugins_batch.runner",
    "provider_batch_complete": "gluellm_plugins_batch.provider",
    "run_jsonl": "gluellm_plugins_batch.files",
    "stream_batch": "gluellm_plugins_batch.runner",
}

__all__ = [
    "AnyBatchRequest",
    "BatchConfig",
    "BatchError",
    "BatchErrorStrategy",
    "BatchRequest",
    "BatchResponse",
    "BatchResult",
    "BatchTotals",
    "EmbeddingBatchRequest",
    "ProviderBatch",
    "batch_complete",
    "batch_complete_simple",
    "provider_batch_complete",
    "run_jsonl",
    "stream_batch",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
