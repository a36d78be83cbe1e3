"""The spec's batch API, served by the ``gluellm-plugins-batch`` distribution.

Example::

    from gluellm.batch import BatchConfig, batch_complete_simple

    answers = await batch_complete_simple(["What is 2+2?"], config=BatchConfig(max_concurrent=3))

The names load from the plugin on first access, so importing this module (or
``gluellm``) costs nothing; without the plugin, accessing them raises an ImportError
that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

INSTALL_HINT = "pip install gluellm-plugins-batch"
_PLUGIN_MODULE = "gluellm_plugins_batch"

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


def load(name: str, where: str) -> Any:
    """``name`` from the batch plugin, or an ImportError naming the distribution.

    Args:
        name: The attribute to load.
        where: The module the caller asked (for the error message).
    """
    try:
        module = importlib.import_module(_PLUGIN_MODULE)
    except ImportError as error:
        raise ImportError(
            f"{where}.{name} is provided by the batch plugin, which is not installed. "
            f"Install it with: {INSTALL_HINT}"
        ) from error
    return getattr(module, name)


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = load(name, __name__)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
