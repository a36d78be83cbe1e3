"""Reading recorded data back (JSONL or SQLite) and summarising it, for ``gluellm eval``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

SQLITE_MAGIC = b"SQLite format 3\x00"
CSV_COLUMNS = (
    "id",
    "timestamp",
    "correlation_id",
    "operation",
    "model",
    "success",
    "status",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated_cost_usd",
    "retry_attempts",
    "model_calls",
    "tool_calls_made",
    "error_type",
    "error_message",
    "user_message",
    "final_response",
    "run_id",
    "parent_run_id",
    "root_run_id",
)


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an SQLite database (by its header, not its name)."""
    with path.open("rb") as file:
        return file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


@attrs.define
class JSONLCursor:
    """Reads a JSONL file's records from a position on, remembering where it stopped.

    A last line without its newline (a writer mid-write) is left for the next read.

    Attributes:
        path: The file.
        offset: Bytes already read.
        bad_lines: Lines that were not valid JSON objects.
    """

    path: Path
    offset: int = 0
    bad_lines: int = 0

    def read(self) -> list[dict[str, Any]]:
        """The records appended since the last read."""
        with self.path.open("rb") as file:
            file.seek(self.offset)
            data = file.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        records = []
        for line in data[:end].splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                self.bad_lines += 1
        return records


@attrs.define
class SQLiteCursor:
    """Reads an SQLite store's records in insertion order, remembering where it stopped.

    Attributes:
        path: The database.
        rowid: The last row read.
    """

    path: Path
    rowid: int = 0
    bad_lines: int = 0

    def read(self) -> list[dict[str, Any]]:
        """The records inserted since the last read."""
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT rowid, record FROM eval_records WHERE rowid > ? ORDER BY rowid",
                (self.rowid,),
            ).fetchall()
        except sqlite3.OperationalError:  # no table yet: nothing recorded
            rows = []
        finally:
            connection.close()
        if rows:
            self.rowid = rows[-1][0]
        return [json.loads(record) for _, record in rows]


def cursor_for(path: Path) -> JSONLCursor | SQLiteCursor:
    """A cursor over the records at ``path`` (JSONL or SQLite)."""
    return SQLiteCursor(path) if is_sqlite(path) else JSONLCursor(path)


def load_records(path: Path) -> list[dict[str, Any]]:
    """Every record at ``path``."""
    return cursor_for(path).read()


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@attrs.define
class ModelSummary:
    """Figures for one model (or all of them)."""

    model: str
    runs: int = 0
    successes: int = 0
    latencies: list[float] = attrs.field(factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, record: dict[str, Any]) -> None:
        """Count one record."""
        self.runs += 1
        self.successes += bool(record.get("success"))
        if isinstance(record.get("latency_ms"), int | float):
            self.latencies.append(float(record["latency_ms"]))
        tokens = record.get("tokens_used") or {}
        self.prompt_tokens += int(tokens.get("prompt") or 0)
        self.completion_tokens += int(tokens.get("completion") or 0)
        self.total_tokens += int(tokens.get("total") or 0)
        self.cost_usd += float(record.get("estimated_cost_usd") or 0.0)

    def row(self) -> list[str]:
        """The table row."""
        p50 = _percentile(self.latencies, 0.5)
        p95 = _percentile(self.latencies, 0.95)
        rate = 100.0 * self.successes / self.runs if self.runs else 0.0
        return [
            self.model,
            str(self.runs),
            f"{rate:.1f}%",
            "-" if p50 is None else f"{p50:.1f}",
            "-" if p95 is None else f"{p95:.1f}",
            str(self.prompt_tokens),
            str(self.completion_tokens),
            str(self.total_tokens),
            f"{self.cost_usd:.6f}",
        ]


SUMMARY_HEADER = [
    "model",
    "runs",
    "success",
    "p50 ms",
    "p95 ms",
    "prompt tok",
    "completion tok",
    "total tok",
    "cost USD",
]


def summarise(records: Iterable[dict[str, Any]], top_errors: int = 5) -> str:
    """A text report: per-model table, a total row, and the most frequent errors."""
    by_model: dict[str, ModelSummary] = {}
    total = ModelSummary("TOTAL")
    errors: Counter[str] = Counter()
    for record in records:
        model = str(record.get("model") or "-")
        by_model.setdefault(model, ModelSummary(model)).add(record)
        total.add(record)
        if not record.get("success"):
            message = str(record.get("error_message") or "").splitlines()[0:1]
            errors[
                f"{record.get('error_type') or record.get('status')}: {''.join(message)[:80]}"
            ] += 1
    rows = [by_model[m].row() for m in sorted(by_model)] + [total.row()]
    lines = [_table(SUMMARY_HEADER, rows)]
    lines.append("")
    if errors:
        lines.append(f"Top errors ({sum(errors.values())} failed runs):")
        lines += [f"  {count:>6}  {text}" for text, count in errors.most_common(top_errors)]
    else:
        lines.append("No errors.")
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def tail_line(record: dict[str, Any]) -> str:
    """One line per record for ``gluellm eval tail``."""
    tokens = (record.get("tokens_used") or {}).get("total", "-")
    outcome = (
        "ok" if record.get("success") else f"{record.get('error_type') or record.get('status')}"
    )
    message = str(record.get("user_message") or "").replace("\n", " ")[:60]
    latency = record.get("latency_ms")
    latency_text = f"{latency:.0f}ms" if isinstance(latency, int | float) else "-"
    return (
        f"{record.get('timestamp', '-')}  {record.get('model') or '-'}  {outcome}  "
        f"{latency_text}  {tokens} tok  {record.get('correlation_id') or '-'}  {message}"
    )


def csv_rows(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The records as CSV text, header first; nested values as JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _take(buffer)
    for record in records:
        tokens = record.get("tokens_used") or {}
        flat = defaultdict(
            lambda: None,
            record,
            prompt_tokens=tokens.get("prompt"),
            completion_tokens=tokens.get("completion"),
            total_tokens=tokens.get("total"),
        )
        writer.writerow(["" if flat[c] is None else flat[c] for c in CSV_COLUMNS])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
