"""The batch commands, run as a user runs them: real subprocesses, offline or on the fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gluellm_plugins_batch.models import BatchResult, BatchTotals
from gluellm_plugins_batch.progress import Progress, format_status


def _gluellm(*args, env=None, timeout=120):
    full_env = {**os.environ, "GLUELLM_LOG_LEVEL": "WARNING", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gluellm.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def test_test_batch_processing_runs_offline_on_the_test_model():
    proc = _gluellm("test-batch-processing", "-c", "10", "-n", "5")
    assert proc.returncode == 0, proc.stderr
    assert "5/5 succeeded" in proc.stdout
    for i in range(1, 6):
        assert f"What is {i} + {i}?" in proc.stdout


def test_test_api_key_pool_spreads_requests_over_the_keys():
    proc = _gluellm("test-api-key-pool", "-k", "3", "-n", "12")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.endswith(" requests")]
    assert len(lines) == 3
    assert [int(line.split(": ")[1].split()[0]) for line in lines] == [4, 4, 4]


def _server_env(server):
    return {
        "OPENAI_BASE_URL": server.openai_base_url,
        "OPENAI_API_KEY": "sk-test",
        "GLUELLM_RATE_LIMIT_ENABLED": "false",
    }


def test_batch_command_writes_results_and_resumes(fake_provider, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"q{i}", "user_message": f"q {i}"}) + "\n" for i in range(8))
    )
    dst.write_text(json.dumps({"id": "q0", "success": True}) + "\n")

    proc = _gluellm(
        "batch",
        str(src),
        "-o",
        str(dst),
        "--concurrency",
        "3",
        "--model",
        "openai:gpt-4o-mini",
        env=_server_env(fake_provider),
    )

    assert proc.returncode == 0, proc.stderr
    assert "7 results written" in proc.stdout
    assert "done 7/7" in proc.stderr  # not a terminal: plain progress lines
    ids = [json.loads(line)["id"] for line in dst.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(8))
    assert len(fake_provider.chat_requests) == 7


def test_batch_command_provider_batch(fake_provider, tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"p{i}", "user_message": f"q {i}"}) + "\n" for i in range(4))
    )
    proc = _gluellm(
        "batch",
        str(src),
        "-o",
        str(dst),
        "--provider-batch",
        "--poll-interval",
        "0.05",
        "--model",
        "openai:gpt-4o-mini",
        env=_server_env(fake_provider),
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in dst.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["p0", "p1", "p2", "p3"]
    assert all(r["success"] for r in records)
    assert any(r.path == "/v1/batches" for r in fake_provider.requests)
    assert "completed" in proc.stderr


def test_batch_command_names_a_missing_input():
    proc = _gluellm("batch", "/nonexistent/in.jsonl", "-o", "/tmp/out.jsonl")
    assert proc.returncode == 2
    assert "is not a file" in proc.stderr


class _Tty:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_uses_a_rich_bar_on_a_terminal_and_lines_otherwise():
    tty = _Tty()
    with Progress(3, stream=tty) as progress:
        assert progress.fancy
        for i in range(3):
            progress.add(
                BatchResult(
                    id=str(i),
                    success=i != 1,
                    status="ok" if i != 1 else "error",
                    estimated_cost_usd=0.5,
                )
            )
    assert "3/3" in "".join(tty.parts)

    class Plain(_Tty):
        def isatty(self):
            return False

    plain = Plain()
    with Progress(3, stream=plain) as progress:
        assert not progress.fancy
        progress.add(BatchResult(id="x", success=True, estimated_cost_usd=0.25))
    assert "done 1/3, failed 0" in "".join(plain.parts)
    assert "cost $0.2500" in "".join(plain.parts)


def test_status_line_has_rate_eta_and_cost():
    totals = BatchTotals()
    totals.add(BatchResult(id="a", success=True, estimated_cost_usd=0.01))
    totals.add(BatchResult(id="b", success=False, status="error"))
    line = format_status(totals, 10, 2.0)
    assert line == "done 2/10, failed 1, 1.0 req/s, ETA 8s, cost $0.0100"


@pytest.mark.parametrize("command", ["batch", "test-batch-processing", "test-api-key-pool"])
def test_commands_are_listed(command):
    proc = _gluellm("--help")
    assert command in proc.stdout
