"""GlueLLM eval recording: every run recorded as an `EvalRecord`, in the background.

The public names are re-exported by ``gluellm.eval``; they load on first access, so
importing the plugin (which GlueLLM does to find its hooks) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_eval.buffered import BufferedStore, EvalStoreNotClosedWarning, StoreStats
    from gluellm_plugins_eval.callback import CallbackStore, MultiStore
    from gluellm_plugins_eval.jsonl import JSONLFileStore
    from gluellm_plugins_eval.recorder import (
        disable_recording,
        enable_callback_recording,
        enable_file_recording,
        flush_recording,
        get_global_eval_store,
        set_global_eval_store,
    )
    from gluellm_plugins_eval.settings import EvalSettings
    from gluellm_plugins_eval.sqlite import SQLiteStore

_EXPORTS = {
    "BufferedStore": "gluellm_plugins_eval.buffered",
    "CallbackStore": "gluellm_plugins_eval.callback",
    "EvalSettings": "gluellm_plugins_eval.settings",
    "EvalStoreNotClosedWarning": "gluellm_plugins_eval.buffered",
    "JSONLFileStore": "gluellm_plugins_eval.jsonl",
    "MultiStore": "gluellm_plugins_eval.callback",
    "SQLiteStore": "gluellm_plugins_eval.sqlite",
    "StoreStats": "gluellm_plugins_eval.buffered",
    "disable_recording": "gluellm_plugins_eval.recorder",
    "enable_callback_recording": "gluellm_plugins_eval.recorder",
    "enable_file_recording": "gluellm_plugins_eval.recorder",
    "flush_recording": "gluellm_plugins_eval.recorder",
    "get_global_eval_store": "gluellm_plugins_eval.recorder",
    "set_global_eval_store": "gluellm_plugins_eval.recorder",
}

__all__ = [
    "BufferedStore",
    "CallbackStore",
    "EvalSettings",
    "EvalStoreNotClosedWarning",
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
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
