"""The spec's eval-recording API, served by the ``gluellm-plugins-eval`` distribution.

Example::

    from gluellm.eval import JSONLFileStore, enable_file_recording

    store = enable_file_recording("./eval_data/records.jsonl")
    ...
    await store.close()

`EvalStore` (the protocol) and `EvalRecord` (the record) live in core and are always
importable. The stores and functions load from the plugin on first access, so importing
this module (or ``gluellm``) costs nothing; without the plugin, accessing them raises an
ImportError that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord
    from gluellm.protocols import EvalStore
    from gluellm_plugins_eval import (
        BufferedStore,
        CallbackStore,
        JSONLFileStore,
        MultiStore,
        SQLiteStore,
        StoreStats,
        disable_recording,
        enable_callback_recording,
        enable_file_recording,
        flush_recording,
        get_global_eval_store,
        set_global_eval_store,
    )

INSTALL_HINT = "pip install gluellm-plugins-eval"
_PLUGIN_MODULE = "gluellm_plugins_eval"
_CORE = {"EvalStore": "gluellm.protocols", "EvalRecord": "gluellm.models.eval"}
_PLUGIN_NAMES = (
    "BufferedStore",
    "CallbackStore",
    "JSONLFileStore",
    "MultiStore",
    "SQLiteStore",
    "StoreStats",
    "disable_recording",
    "enable_callback_recording",
    "enable_file_recording",
    "flush_recording",
    "get_global_eval_store",
    "set_global_eval_store",
)

__all__ = [
    "BufferedStore",
    "CallbackStore",
    "EvalRecord",
    "EvalStore",
    "JSONLFileStore",
    "MultiStore",
    "SQLiteStore",
    "StoreStats",
    "disable_recording",
    "enable_callback_recording",
    "enable_file_recording",
    "flush_recording",
    "get_global_eval_store",
    "set_global_eval_store",
]


def __getattr__(name: str) -> Any:
    if name in _CORE:
        value = getattr(importlib.import_module(_CORE[name]), name)
    elif name in _PLUGIN_NAMES:
        try:
            module = importlib.import_module(_PLUGIN_MODULE)
        except ImportError as error:
            raise ImportError(
                f"gluellm.eval.{name} is provided by the eval recording plugin, which is "
                f"not installed. Install it with: {INSTALL_HINT}"
            ) from error
        value = getattr(module, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
