"""JSONL in, JSONL out: whole lines, resume skips answered IDs, torn tails are cut."""

from __future__ import annotations

import json

import pytest

from gluellm_plugins_batch import BatchConfig
from gluellm_plugins_batch.files import answered_ids, result_lines, run_jsonl
from gluellm_plugins_mock.fake_server import FakeReply, Fault

from .conftest import fault_on_model


def _write_input(path, n, **extra):
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"q{i}", "user_message": f"question {i}", **extra}) + "\n")


async def test_every_line_is_answered_once(server, runtime, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, 25)
    server.responder = lambda r: FakeReply.text(f"A:{r.messages[-1]['content']}")

    totals = await run_jsonl(src, dst, BatchConfig(max_concurrent=4))

    records = list(result_lines(dst))
    assert totals.successful == 25
    assert sorted(r["id"] for r in records) == sorted(f"q{i}" for i in range(25))
    assert all(r["response"] == f"A:question {r['index']}" for r in records)
    assert "result" not in records[0]  # the full result object is not serialized


async def test_a_rerun_skips_ids_already_answered(server, runtime, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, 10)
    # A previous run answered q0..q3, and died while writing q4's line.
    with dst.open("w") as out:
        for i in range(4):
            out.write(json.dumps({"id": f"q{i}", "success": True, "response": "old"}) + "\n")
        out.write('{"id": "q4", "succ')

    await run_jsonl(src, dst)

    records = list(result_lines(dst))
    assert [r["id"] for r in records].count("q4") == 1
    assert sorted(r["id"] for r in records) == sorted(f"q{i}" for i in range(10))
    assert len(server.chat_requests) == 6  # q4..q9 only
    assert {r.messages[-1]["content"] for r in server.chat_requests} == {
        f"question {i}" for i in range(4, 10)
    }


async def test_rerun_failed_sends_failures_again(server, runtime, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, 3, model="openai:gpt-broken")
    server.responder = fault_on_model({"gpt-broken": Fault.status(400)})
    first = await run_jsonl(src, dst)
    assert first.failed == 3

    server.responder = None
    again = await run_jsonl(src, dst)  # failures count as answered: nothing to do
    assert again.done == 0
    fixed = await run_jsonl(src, dst, rerun_failed=True)
    assert fixed.successful == 3
    assert answered_ids(dst, rerun_failed=True) == {"q0", "q1", "q2"}


async def test_lines_without_ids_bare_strings_and_embeddings(server, runtime, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        '"What is 2+2?"\n\n'
        '{"user_message": "hello", "metadata": {"k": 1}}\n'
        '{"id": "emb", "input": ["a", "b"], "model": "openai:text-embedding-3-small"}\n'
    )
    await run_jsonl(src, dst)
    records = {r["id"]: r for r in result_lines(dst)}
    assert set(records) == {"line-1", "line-3", "emb"}
    assert records["line-3"]["metadata"] == {"k": 1}
    assert len(records["emb"]["embeddings"]) == 2


async def test_duplicate_ids_are_refused(server, runtime, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": "x", "user_message": "a"}\n{"id": "x", "user_message": "b"}\n')
    with pytest.raises(ValueError, match="appears twice"):
        await run_jsonl(src, dst)


@pytest.mark.parametrize("fsync", ["always", "never", "interval"])
async def test_fsync_policies_all_write_whole_lines(server, runtime, tmp_path, fsync):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_input(src, 5)
    await run_jsonl(src, dst, fsync=fsync)
    data = dst.read_bytes()
    assert data.endswith(b"\n")
    assert data.count(b"\n") == 5
