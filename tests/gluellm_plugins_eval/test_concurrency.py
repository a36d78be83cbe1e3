"""10,000 concurrent complete() calls lose no record, cut none, interleave none.

The model is a `FunctionTransport` answering in process (no HTTP), so the test measures
the recording path, not the network; the fake-server path is covered by the spec
examples and the fault tests.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from gluellm.api import GlueLLM
from gluellm.eval import JSONLFileStore, SQLiteStore
from gluellm.models.eval import EvalRecord
from gluellm.runtime import override_transport
from gluellm.testing import FunctionTransport

from .conftest import MODEL

N = 10_000


def answer(call) -> str:
    # A long-ish answer with newlines and quotes: lines must still never be cut.
    message = call.messages[-1]["content"]
    return f'answer to {message}\n"quoted"\n' + "x" * 500


async def run_many(store) -> set[str]:
    client = GlueLLM(model=MODEL, eval_store=store)
    with override_transport(FunctionTransport(answer)):
        results = await asyncio.gather(*(client_call(client, i) for i in range(N)))
    await store.close()
    assert len(results) == N
    return {r.correlation_id for r in results}


async def client_call(client: GlueLLM, i: int):
    # A fresh client per call would be usual too; one shared client must not remember.
    client._remember = False
    return await client.complete(f"question {i}", correlation_id=f"cid-{i}")


@pytest.mark.usefixtures("runtime")
async def test_10000_concurrent_runs_to_jsonl(tmp_path: Path):
    path = tmp_path / "records.jsonl"
    store = JSONLFileStore(path)
    correlation_ids = await run_many(store)

    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == N
    records = [EvalRecord.model_validate(json.loads(line)) for line in lines]
    assert len({r.id for r in records}) == N
    assert {r.correlation_id for r in records} == correlation_ids
    for record in records:
        number = record.correlation_id.removeprefix("cid-")
        assert record.user_message == f"question {number}"
        assert record.final_response.startswith(f"answer to question {number}\n")
    assert store.stats.written == N
    assert store.stats.dropped == store.stats.failed == 0


@pytest.mark.usefixtures("runtime")
async def test_10000_concurrent_runs_to_sqlite(tmp_path: Path):
    path = tmp_path / "records.db"
    store = SQLiteStore(path)
    correlation_ids = await run_many(store)

    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, correlation_id, record FROM eval_records").fetchall()
    assert len(rows) == N
    assert len({row[0] for row in rows}) == N
    assert {row[1] for row in rows} == correlation_ids
    for row_id, correlation_id, text in rows:
        record = EvalRecord.model_validate(json.loads(text))
        assert record.id == row_id
        assert record.correlation_id == correlation_id
        assert record.user_message == f"question {correlation_id.removeprefix('cid-')}"
    assert store.stats.written == N
