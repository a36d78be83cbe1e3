"""JSONL in, JSONL out, resumable.

Input: one JSON object per line, a `BatchRequest` (``{"id": "q1", "user_message":
"..."}``) or an `EmbeddingBatchRequest` (``{"id": "e1", "input": ["...", "..."]}``); a
line that is a bare JSON string is a user message. A line without ``id`` gets
``line-<N>`` (its 1-based line number), so reruns of the same file agree on IDs.

Output: one `BatchResult` per line, appended as each request finishes (completion
order; ``index`` is the input position). Each line is written with a single
``os.write`` on a file opened with ``O_APPEND``, so it lands whole or, if the process
dies in the middle of that write, as a torn last line that the next run cuts off.

Resume: rerunning with the same output file reads the IDs already in it and skips
those requests; only the rest are sent. With ``rerun_failed=True`` the IDs whose
result failed are sent again (their new line follows the old one; the last line for an
ID wins).

Durability (``fsync``): ``"interval"`` (default) hands every line to the OS at once
(it survives the process being killed) and fsyncs at most once a second and at the
end (a power cut loses at most the last second); ``"always"`` fsyncs every line;
``"never"`` leaves it to the OS.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from gluellm_plugins_batch.models import (
    AnyBatchRequest,
    BatchConfig,
    BatchRequest,
    BatchResult,
    BatchTotals,
    EmbeddingBatchRequest,
)

if TYPE_CHECKING:
    from gluellm.runtime import Runtime

FsyncPolicy: TypeAlias = Literal["interval", "always", "never"]
"""When output lines are forced to disk; see the module docstring."""

_FSYNC_INTERVAL_S = 1.0


def parse_request(line: str, line_number: int, model: str | None = None) -> AnyBatchRequest:
    """One input line as a request.

    Args:
        line: The line's text.
        line_number: Its 1-based number (names the request when the line has no ``id``).
        model: Model for requests that name none.

    Raises:
        ValueError: The line is not a request; the message names the line.
    """
    try:
        value = json.loads(line)
    except ValueError as error:
        raise ValueError(f"line {line_number}: not JSON ({error})") from error
    if isinstance(value, str):
        value = {"user_message": value}
    if not isinstance(value, dict):
        raise ValueError(f"line {line_number}: expected a JSON object or string, got {value!r}")
    value.setdefault("id", f"line-{line_number}")
    if model is not None and value.get("model") is None:
        value["model"] = model
    try:
        if "input" in value and "user_message" not in value:
            return EmbeddingBatchRequest.model_validate(value)
        return BatchRequest.model_validate(value)
    except ValueError as error:
        raise ValueError(f"line {line_number}: not a batch request: {error}") from error


def read_requests(path: Path, model: str | None = None) -> Iterator[AnyBatchRequest]:
    """The requests of a JSONL file, read lazily, blank lines skipped."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield parse_request(line, number, model)


def count_requests(path: Path) -> int:
    """Non-blank lines of ``path`` (the progress bar's total)."""
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def answered_ids(path: Path, *, rerun_failed: bool = False) -> set[str]:
    """IDs that already have a result in ``path``; cuts off a torn last line first.

    Args:
        path: The output file (missing: nothing answered).
        rerun_failed: Leave out IDs whose last result failed, so they run again.
    """
    if not path.exists():
        return set()
    _cut_torn_tail(path)
    last: dict[str, bool] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            last[str(record["id"])] = bool(record.get("success"))
    if rerun_failed:
        return {rid for rid, success in last.items() if success}
    return set(last)


def _cut_torn_tail(path: Path) -> None:
    """Truncate ``path`` after its last newline (a line the last run did not finish)."""
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        position = size
        block = 4096
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                handle.truncate(start + newline + 1)
                return
            position = start
        handle.truncate(0)


class ResultWriter:
    """Appends results to a JSONL file as whole lines, with an fsync policy.

    Args:
        path: The output file; created if missing, appended to otherwise.
        fsync: See `FsyncPolicy`.
    """

    def __init__(self, path: Path, fsync: FsyncPolicy = "interval") -> None:
        self.path = path
        self.fsync = fsync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._last_sync = time.monotonic()
        self._dirty = False

    def write(self, result: BatchResult) -> None:
        """Append one result line."""
        line = result.model_dump_json(exclude={"result"}) + "\n"
        data = line.encode("utf-8")
        written = os.write(self._fd, data)
        while written < len(data):  # short writes are rare (disk full, signals); finish the line
            written += os.write(self._fd, data[written:])
        self._dirty = True
        due = time.monotonic() - self._last_sync >= _FSYNC_INTERVAL_S
        if self.fsync == "always" or (self.fsync == "interval" and due):
            self._sync()

    def _sync(self) -> None:
        os.fsync(self._fd)
        self._dirty = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync (unless the policy is ``never``) and close."""
        if self._fd < 0:
            return
        try:
            if self._dirty and self.fsync != "never":
                self._sync()
        finally:
            os.close(self._fd)
            self._fd = -1


def pending_requests(
    in_path: Path, out_path: Path, *, model: str | None = None, rerun_failed: bool = False
) -> tuple[Iterator[AnyBatchRequest], int]:
    """The input's requests not yet answered in ``out_path``, and how many were skipped.

    Raises:
        ValueError: Two input lines share an ID (resume could not tell them apart).
    """
    done = answered_ids(out_path, rerun_failed=rerun_failed)
    skipped = [0]

    def pending() -> Iterator[AnyBatchRequest]:
        seen: set[str] = set()
        for request in read_requests(in_path, model):
            if request.id in seen:
                raise ValueError(
                    f"{in_path}: the ID {request.id!r} appears twice; IDs must be unique "
                    "so a rerun can tell which requests were answered."
                )
            seen.add(request.id)
            if request.id in done:
                skipped[0] += 1
                continue
            yield request

    return pending(), len(done)


async def run_jsonl(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    config: BatchConfig | None = None,
    *,
    model: str | None = None,
    rerun_failed: bool = False,
    fsync: FsyncPolicy = "interval",
    runtime: Runtime | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> BatchTotals:
    """Answer every request of a JSONL file into another, skipping those already answered.

    Memory stays bounded (see `stream_batch`) apart from the set of IDs seen.

    Args:
        in_path: Requests, one per line (see the module docstring).
        out_path: Results, appended one per line; rerun with it to resume.
        config: Concurrency, error strategy, retry, key pool.
        model: Model for requests that name none.
        rerun_failed: Send again the requests whose result in ``out_path`` failed.
        fsync: When lines are forced to disk (see `FsyncPolicy`).
        runtime: Plugins to use; by default the current runtime.
        on_result: Called with each result after its line is written (progress bars).

    Returns:
        Totals of this run (requests skipped as already answered are not counted).
    """
    from gluellm_plugins_batch.runner import stream_batch

    source, _ = pending_requests(
        Path(in_path), Path(out_path), model=model, rerun_failed=rerun_failed
    )
    totals = BatchTotals()
    writer = ResultWriter(Path(out_path), fsync)
    try:
        stream: AsyncGenerator[BatchResult, None] = stream_batch(source, config, runtime=runtime)
        try:
            async for result in stream:
                writer.write(result)
                totals.add(result)
                if on_result is not None:
                    on_result(result)
        finally:
            await stream.aclose()
    finally:
        writer.close()
    return totals


def result_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The result records of an output file (for reports and tests)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
