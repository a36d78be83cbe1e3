"""The stores on their own: queue policies, failures, timeouts, loops, close and exit."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gluellm.eval import CallbackStore, JSONLFileStore, MultiStore, SQLiteStore
from gluellm.models.eval import EvalRecord
from gluellm.protocols import EvalStore

from .conftest import read_jsonl


def records(n: int, **fields) -> list[EvalRecord]:
    return [EvalRecord(user_message=f"m{i}", correlation_id=f"c{i}", **fields) for i in range(n)]


async def test_jsonl_store_writes_one_line_per_record_and_creates_folders(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "records.jsonl"
    store = JSONLFileStore(path)
    for record in records(5, final_response="line\nbreak"):
        await store.record(record)
    await store.close()
    lines = read_jsonl(path)
    assert [r["user_message"] for r in lines] == [f"m{i}" for i in range(5)]
    assert lines[0]["final_response"] == "line\nbreak"
    assert store.stats.written == 5
    assert store.stats.pending == 0


async def test_sqlite_store_has_one_indexed_table_in_wal_mode(tmp_path: Path):
    path = tmp_path / "eval.db"
    store = SQLiteStore(path)
    for record in records(3, model="openai:gpt-4o-mini", tokens_used={"prompt": 1, "total": 3}):
        await store.record(record)
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables == ["eval_records"]
        indexed = {
            r[0]
            for r in db.execute(
                "SELECT sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            )
        }
        for column in ("timestamp", "model", "correlation_id"):
            assert any(f"({column})" in sql for sql in indexed)
        rows = db.execute(
            "SELECT correlation_id, model, total_tokens, record FROM eval_records ORDER BY rowid"
        ).fetchall()
    assert [r[0] for r in rows] == ["c0", "c1", "c2"]
    assert rows[0][1] == "openai:gpt-4o-mini"
    assert rows[0][2] == 3
    assert json.loads(rows[0][3])["user_message"] == "m0"


async def test_record_returns_before_the_callback_runs():
    release = threading.Event()
    seen: list[str] = []

    def slow(record: EvalRecord) -> None:
        release.wait(30)
        seen.append(record.user_message or "")

    store = CallbackStore(slow)
    await store.record(records(1)[0])
    assert seen == []  # queued, not delivered: the caller did not wait for the callback
    release.set()
    await store.close()
    assert seen == ["m0"]


async def test_a_raising_callback_is_counted_and_logged_with_the_correlation_id():
    from loguru import logger

    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING", format="{message}")

    def broken(record: EvalRecord) -> None:
        raise RuntimeError("database down")

    store = CallbackStore(broken)
    try:
        for record in records(3):
            await store.record(record)
        await store.close()
    finally:
        logger.remove(sink)
    assert store.stats.failed == 3
    assert store.stats.written == 0
    assert any("correlation ID c1" in m for m in messages)


async def test_a_hanging_callback_times_out_per_record():
    calls = 0

    async def hangs(record: EvalRecord) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(3600)

    store = CallbackStore(hangs, record_timeout=0.05, concurrency=2)
    for record in records(4):
        await store.record(record)
    await store.close()
    assert calls == 4
    assert store.stats.timed_out == 4


async def test_full_queue_drop_policy_drops_and_counts():
    release = asyncio.Event()
    delivered: list[str] = []

    async def gated(record: EvalRecord) -> None:
        await release.wait()
        delivered.append(record.user_message or "")

    store = CallbackStore(gated, queue_size=2, when_full="drop", concurrency=1)
    for record in records(6):
        await store.record(record)
    await asyncio.sleep(0)  # let the worker take one
    # One is being delivered, two wait in the queue: with nothing else running, the
    # other three found no room.
    assert store.stats.dropped >= 3
    release.set()
    await store.close()
    assert len(delivered) + store.stats.dropped == 6
    assert store.stats.written == len(delivered)


async def test_full_queue_wait_policy_loses_nothing(tmp_path: Path):
    store = JSONLFileStore(tmp_path / "r.jsonl", queue_size=1, batch_size=1)
    await asyncio.gather(*(store.record(r) for r in records(200)))
    await store.close()
    assert len(read_jsonl(tmp_path / "r.jsonl")) == 200
    assert store.stats.dropped == 0


async def test_record_nowait_with_wait_policy_still_loses_nothing():
    release = asyncio.Event()
    got: list[EvalRecord] = []

    async def gated(record: EvalRecord) -> None:
        await release.wait()
        got.append(record)

    store = CallbackStore(gated, queue_size=1, concurrency=1)
    for record in records(5):
        store.record_nowait(record)
    release.set()
    await store.close()
    assert len(got) == 5


async def test_multi_store_fans_out_and_survives_a_failing_store(tmp_path: Path):
    class Broken:
        async def record(self, record: EvalRecord) -> None:
            raise OSError("disk full")

        async def close(self) -> None:
            raise OSError("still full")

    memory: list[EvalRecord] = []

    async def save(record: EvalRecord) -> None:
        memory.append(record)

    multi = MultiStore([Broken(), JSONLFileStore(tmp_path / "r.jsonl"), CallbackStore(save)])
    for record in records(3):
        await multi.record(record)
    await multi.close()
    assert len(memory) == 3
    assert len(read_jsonl(tmp_path / "r.jsonl")) == 3
    assert multi.failures == [3, 0, 0]


def test_stores_satisfy_the_protocol(tmp_path: Path):
    for store in (
        JSONLFileStore(tmp_path / "a.jsonl"),
        SQLiteStore(tmp_path / "a.db"),
        CallbackStore(print),
        MultiStore([]),
    ):
        assert isinstance(store, EvalStore)


def test_a_store_works_across_event_loops(tmp_path: Path):
    # asyncio.run() per call: the same stores keep working on each new loop.
    seen: list[str] = []
    jsonl = JSONLFileStore(tmp_path / "r.jsonl")
    callback = CallbackStore(lambda r: seen.append(r.user_message))

    async def one(i: int) -> None:
        record = EvalRecord(user_message=f"loop{i}")
        await jsonl.record(record)
        await callback.record(record)

    for i in range(3):
        asyncio.run(one(i))
    asyncio.run(jsonl.close())
    assert [r["user_message"] for r in read_jsonl(tmp_path / "r.jsonl")] == [
        "loop0",
        "loop1",
        "loop2",
    ]
    # Each loop's records were delivered before that loop closed.
    assert seen == ["loop0", "loop1", "loop2"]


async def test_a_store_reopens_after_close(tmp_path: Path):
    store = JSONLFileStore(tmp_path / "r.jsonl")
    await store.record(EvalRecord(user_message="before"))
    await store.close()
    await store.record(EvalRecord(user_message="after"))
    await store.close()
    assert [r["user_message"] for r in read_jsonl(tmp_path / "r.jsonl")] == ["before", "after"]


def test_bad_options_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="queue_size"):
        JSONLFileStore(tmp_path / "a", queue_size=0)
    with pytest.raises(ValueError, match="when_full"):
        JSONLFileStore(tmp_path / "a", when_full="block")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record_timeout"):
        CallbackStore(print, record_timeout=0)
    with pytest.raises(ValueError, match="concurrency"):
        CallbackStore(print, concurrency=0)


EXIT_PROGRAM = """
import asyncio, sys
from gluellm.eval import JSONLFileStore, SQLiteStore
from gluellm.models.eval import EvalRecord

jsonl = JSONLFileStore(sys.argv[1])
db = SQLiteStore(sys.argv[2])

async def main():
    for i in range(500):
        record = EvalRecord(user_message=f"m{i}")
        await jsonl.record(record)
        await db.record(record)
    # no close(): the interpreter exits with records still queued

asyncio.run(main())
"""


def test_exit_without_close_flushes_and_warns(tmp_path: Path):
    jsonl, db = tmp_path / "r.jsonl", tmp_path / "r.db"
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXIT_PROGRAM), str(jsonl), str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert "EvalStoreNotClosedWarning" in finished.stderr
    assert "was not closed" in finished.stderr
    assert len(read_jsonl(jsonl)) == 500
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM eval_records").fetchone()[0] == 500


async def test_batch_size_bounds_each_write(tmp_path: Path):
    sizes: list[int] = []

    class Counting(JSONLFileStore):
        def _write_batch(self, encoded: list[str]) -> None:
            sizes.append(len(encoded))
            super()._write_batch(encoded)

    store = Counting(tmp_path / "r.jsonl", batch_size=3)
    store.record_nowait(EvalRecord(user_message="first"))
    # Queued while the writer may still be on the first: they wait for its next batches.
    for record in records(20):
        store.record_nowait(record)
    await store.close()
    assert sum(sizes) == 21
    assert max(sizes) <= 3
    assert len(read_jsonl(tmp_path / "r.jsonl")) == 21


async def test_idle_workers_exit_and_come_back(monkeypatch: pytest.MonkeyPatch):
    from gluellm_plugins_eval import looped

    monkeypatch.setattr(looped, "WORKER_IDLE_S", 0.01)
    seen: list[str] = []
    store = CallbackStore(lambda r: seen.append(r.user_message), concurrency=2)
    await store.record(EvalRecord(user_message="one"))
    await store.flush()
    state = store._loops[asyncio.get_running_loop()]
    for _ in range(1000):  # until both workers noticed they are idle
        if all(w.done() for w in state.workers):
            break
        await asyncio.sleep(0.01)
    assert all(w.done() for w in state.workers)
    await store.record(EvalRecord(user_message="two"))
    await store.close()
    assert seen == ["one", "two"]


async def test_concurrency_bounds_callbacks_in_flight():
    release = asyncio.Event()
    in_flight = peak = 0

    async def gated(record: EvalRecord) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1

    store = CallbackStore(gated, concurrency=3)
    for record in records(7):
        await store.record(record)
    for _ in range(50):  # let every worker that can start do so
        await asyncio.sleep(0)
    assert peak == 3
    release.set()
    await store.close()
    assert store.stats.written == 7
