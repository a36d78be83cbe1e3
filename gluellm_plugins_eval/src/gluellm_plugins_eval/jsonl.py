"""`JSONLFileStore`: one JSON object per line, appended by a single writer thread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gluellm_plugins_eval.threaded import ThreadedStore

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord


def record_line(record: EvalRecord) -> str:
    """``record`` as one JSON line (newline included); newlines inside are escaped.

    Fields that are None are left out (``r.get("estimated_cost_usd", 0)`` then gives 0
    for a run whose price is unknown, as the spec's reading example expects);
    ``EvalRecord.model_validate(json.loads(line))`` restores them.
    """
    data = {k: v for k, v in record.model_dump_dict().items() if v is not None}
    return json.dumps(data, ensure_ascii=False, default=str) + "\n"


class JSONLFileStore(ThreadedStore):
    """Appends each record as one complete JSON line to ``path``.

    One writer thread per store writes batches with a single ``write`` each, so lines
    never interleave or get cut, and the event loop never waits on the disk. The file
    and its folders are created on the first record.

    Args:
        file_path: The ``.jsonl`` file to append to.
        **options: ``queue_size``, ``when_full``, ``record_timeout``, ``redact``,
            ``batch_size`` (see `gluellm_plugins_eval.buffered.BufferedStore`).
    """

    def __init__(self, file_path: str | Path, **options: Any) -> None:
        super().__init__(**options)
        self.file_path = Path(file_path)
        self._file: IO[str] | None = None

    def __repr__(self) -> str:
        return f"JSONLFileStore({str(self.file_path)!r})"

    def _encode(self, record: EvalRecord) -> str:
        return record_line(record)

    def _write_batch(self, encoded: list[str]) -> None:
        if self._file is None:
            self.file_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.file_path.open("a", encoding="utf-8")
        self._file.write("".join(encoded))
        self._file.flush()

    def _close_writer(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
