"""`SQLiteStore`: records in one indexed SQLite table, for users who want to query them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gluellm_plugins_eval.threaded import ThreadedStore

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord

TABLE = "eval_records"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY,
    timestamp TEXT NOT NULL,
    correlation_id TEXT,
    model TEXT,
    operation TEXT,
    success INTEGER NOT NULL,
    status TEXT,
    latency_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    total_tokens INTEGER,
    estimated_cost_usd REAL,
    error_type TEXT,
    run_id TEXT,
    parent_run_id TEXT,
    root_run_id TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_timestamp ON {TABLE} (timestamp);
CREATE INDEX IF NOT EXISTS {TABLE}_model ON {TABLE} (model);
CREATE INDEX IF NOT EXISTS {TABLE}_correlation_id ON {TABLE} (correlation_id);
"""
"""One table; the columns you filter on, plus the whole record as JSON in ``record``."""

_INSERT = (
    f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(record: EvalRecord) -> tuple[Any, ...]:
    data = record.model_dump_dict()
    tokens = record.tokens_used or {}
    return (
        record.id,
        data["timestamp"],
        record.correlation_id,
        record.model,
        record.operation,
        int(record.success),
        record.status,
        record.latency_ms,
        tokens.get("prompt"),
        tokens.get("completion"),
        tokens.get("total"),
        record.estimated_cost_usd,
        record.error_type,
        record.run_id,
        record.parent_run_id,
        record.root_run_id,
        json.dumps(data, ensure_ascii=False, default=str),
    )


class SQLiteStore(ThreadedStore):
    """Stores records in the ``eval_records`` table of an SQLite database.

    Indexed by timestamp, model and correlation ID; the full record is in the
    ``record`` column as JSON. The database runs in WAL mode, so readers (``gluellm
    eval summary``) never block the writer. One writer thread per store inserts each
    batch in one transaction.

    Args:
        db_path: The database file; created, with its folders, on the first record.
        **options: ``queue_size``, ``when_full``, ``record_timeout``, ``redact``,
            ``batch_size`` (see `gluellm_plugins_eval.buffered.BufferedStore`).
    """

    def __init__(self, db_path: str | Path, **options: Any) -> None:
        super().__init__(**options)
        self.db_path = Path(db_path)
        self._connection: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.db_path)!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            # Opened by the writer thread; closed by it, or at exit once it has stopped.
            connection = sqlite3.connect(self.db_path, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
            self._connection = connection
        return self._connection

    def _encode(self, record: EvalRecord) -> tuple[Any, ...]:
        return _row(record)

    def _write_batch(self, encoded: list[tuple[Any, ...]]) -> None:
        connection = self._connect()
        with connection:  # one transaction per batch
            connection.executemany(_INSERT, encoded)

    def _close_writer(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
