"""The eval plugin's settings (``GLUELLM_EVAL_*``), read per runtime."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from gluellm.config import PluginSettings


class EvalSettings(PluginSettings):
    """How the store enabled by ``GLUELLM_EVAL_RECORDING_ENABLED`` is built.

    The core settings ``GLUELLM_EVAL_RECORDING_ENABLED`` and
    ``GLUELLM_EVAL_RECORDING_PATH`` turn recording on and say where; these say with
    which store and how its queue behaves. Stores made in code take their options as
    arguments instead.

    Attributes:
        eval_recording_store: Name of the registered store built with the path
            (``jsonl`` or ``sqlite``, or one a plugin offers via
            ``register_eval_stores``).
        eval_queue_size: Records the store's queue holds.
        eval_when_full: ``wait`` (runs wait for room; nothing is lost) or ``drop``
            (records are dropped and counted).
        eval_record_timeout: Seconds one record's storing may take.
    """

    reads: ClassVar[tuple[str, ...]] = ("eval_recording_enabled", "eval_recording_path")

    eval_recording_store: str = "jsonl"
    eval_queue_size: int = Field(default=10_000, ge=1)
    eval_when_full: Literal["wait", "drop"] = "wait"
    eval_record_timeout: float = Field(default=30.0, gt=0)
