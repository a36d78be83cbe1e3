"""The spec's batch API, served by the ``gluellm-plugins-batch`` distribution.

Example::

    from gluellm.batch import BatchConfig, batch_complete_simple

    answers = await batch_complete_simple(["What is 2+2?"], config=BatchConfig(max_concurrent=3))

The names load from the plugin on first access, so importing this module (or
``gluellm``) costs nothing; without the plugin, accessing them raises an ImportError
that says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_batch import (
        BatchConfig,
        BatchError,
        BatchErrorStrategy,
        BatchRequest,
        BatchResponse,
        BatchResult,
        EmbeddingBatchRequest,
        ProviderBatch,
        batch_complete,
        batch_complete_simple,
        provider_batch_complete,
        run_jsonl,
        stream_batch,
    )

__all__ = [
    "BatchConfig",
    "BatchError",
    "BatchErrorStrategy",
    "BatchRequest",
    "BatchResponse",
    "BatchResult",
    "EmbeddingBatchRequest",
    "ProviderBatch",
    "batch_complete",
    "batch_complete_simple",
    "provider_batch_complete",
    "run_jsonl",
    "stream_batch",
]

__getattr__, __dir__ = reexport(__name__, "gluellm_plugins_batch", __all__, "gluellm-plugins-batch")
