"""Progress display for batch commands: a rich bar on a terminal, plain lines otherwise.

Both show the same numbers: done (of total), failed, rate, ETA and cost so far.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any

from gluellm_plugins_batch.models import BatchResult, BatchTotals

_PLAIN_EVERY_S = 2.0


def format_status(totals: BatchTotals, total: int | None, elapsed: float) -> str:
    """``done 40/100, failed 1, 12.3 req/s, ETA 5s, cost $0.0012`` for ``totals``."""
    rate = totals.done / elapsed if elapsed > 0 else 0.0
    done = f"{totals.done}/{total}" if total is not None else str(totals.done)
    parts = [f"done {done}", f"failed {totals.failed}", f"{rate:.1f} req/s"]
    if total is not None and rate > 0:
        parts.append(f"ETA {max(total - totals.done, 0) / rate:.0f}s")
    if totals.cancelled:
        parts.append(f"cancelled {totals.cancelled}")
    cost = f"${totals.cost:.4f}" if totals.cost is not None else "n/a"
    parts.append(f"cost {cost}")
    return ", ".join(parts)


class Progress:
    """Counts results and shows progress on ``stream`` (stderr by default).

    Use as a context manager; call `add` with each result.

    Args:
        total: Requests expected, if known.
        stream: Where to draw; a terminal gets a rich bar, anything else plain lines.
        force_plain: Plain lines even on a terminal.
    """

    def __init__(
        self, total: int | None, stream: IO[str] | None = None, *, force_plain: bool = False
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.totals = BatchTotals()
        self.started = time.perf_counter()
        self._last_line = self.started
        self._rich: Any = None
        self._task: Any = None
        isatty = getattr(self.stream, "isatty", None)
        self.fancy = not force_plain and callable(isatty) and bool(isatty())

    def __enter__(self) -> Progress:
        if self.fancy:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._rich.start()
            self._task = self._rich.add_task("batch", total=self.total, status="")
        return self

    def add(self, result: BatchResult) -> None:
        """Count one result and refresh the display."""
        self.totals.add(result)
        now = time.perf_counter()
        if self._rich is not None:
            status = format_status(self.totals, None, now - self.started).split(", ", 1)[1]
            self._rich.update(self._task, completed=self.totals.done, status=status)
        elif now - self._last_line >= _PLAIN_EVERY_S:
            self._last_line = now
            self._line()

    def _line(self) -> None:
        elapsed = time.perf_counter() - self.started
        self.stream.write(format_status(self.totals, self.total, elapsed) + "\n")
        self.stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.stop()
        else:
            self._line()  # the final numbers, always
