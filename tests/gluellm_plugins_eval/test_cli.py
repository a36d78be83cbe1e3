"""``gluellm eval summary | tail | export`` on real JSONL files and SQLite databases."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gluellm.cli import build_app
from gluellm.eval import JSONLFileStore, SQLiteStore
from gluellm.models.eval import EvalRecord
from gluellm.plugins import PluginManager

RECORDS = [
    EvalRecord(
        model="openai:gpt-4o-mini",
        latency_ms=float(ms),
        tokens_used={"prompt": 10, "completion": 5, "total": 15},
        estimated_cost_usd=0.001,
        user_message=f"q{ms}",
        correlation_id=f"c{ms}",
    )
    for ms in (100, 200, 300, 400)
] + [
    EvalRecord(
        model="anthropic:claude",
        latency_ms=50.0,
        success=False,
        status="error",
        error_type="RateLimitError",
        error_message="slow down",
        user_message="limited",
    ),
    EvalRecord(
        model="anthropic:claude",
        latency_ms=70.0,
        success=False,
        status="error",
        error_type="RateLimitError",
        error_message="slow down",
    ),
    EvalRecord(
        model="anthropic:claude",
        latency_ms=90.0,
        success=False,
        status="error",
        error_type="AuthenticationError",
        error_message="bad key",
    ),
]


async def write(store) -> Path:
    for record in RECORDS:
        await store.record(record)
    await store.close()
    return getattr(store, "file_path", None) or store.db_path


@pytest.fixture(params=["jsonl", "sqlite"])
async def recorded(request, tmp_path: Path) -> Path:
    if request.param == "jsonl":
        return await write(JSONLFileStore(tmp_path / "r.jsonl"))
    return await write(SQLiteStore(tmp_path / "r.db"))


def invoke(plugin_manager: PluginManager, *args: str):
    result = CliRunner().invoke(build_app(plugin_manager), ["eval", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_by_model_with_latency_tokens_cost_and_errors(
    plugin_manager: PluginManager, recorded: Path
):
    out = invoke(plugin_manager, "summary", str(recorded))
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    # model runs success p50 p95 prompt completion total cost
    assert rows["openai:gpt-4o-mini"][1:] == [
        "4",
        "100.0%",
        "200.0",
        "400.0",
        "40",
        "20",
        "60",
        "0.004000",
    ]
    assert rows["anthropic:claude"][1:5] == ["3", "0.0%", "70.0", "90.0"]
    assert rows["TOTAL"][1:3] == ["7", "57.1%"]
    assert "Top errors (3 failed runs):" in out
    errors = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert errors[0][:2] == ["2", "RateLimitError:"]
    assert errors[1][:2] == ["1", "AuthenticationError:"]


def test_tail_without_follow_prints_the_last_records(plugin_manager: PluginManager, recorded: Path):
    out = invoke(plugin_manager, "tail", str(recorded), "-n", "2", "--no-follow")
    lines = out.splitlines()
    assert len(lines) == 2
    assert "RateLimitError" in lines[0]
    assert "AuthenticationError" in lines[1]


def test_tail_follows_new_records(tmp_path: Path):
    path = tmp_path / "live.jsonl"
    path.write_text(json.dumps(RECORDS[0].model_dump_dict()) + "\n")
    env = {**os.environ, "GLUELLM_LOAD_PLUGINS": "eval"}
    command = [sys.executable, "-m", "gluellm.cli", "eval", "tail", str(path)]
    command += ["--count", "3", "--interval", "0.05"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "q100" in first
        with path.open("a") as file:
            file.write(json.dumps(RECORDS[1].model_dump_dict()) + "\n")
            file.flush()
            # A line still being written is not shown until it is whole.
            half = json.dumps(RECORDS[2].model_dump_dict())
            file.write(half[:20])
            file.flush()
            assert "q200" in process.stdout.readline()
            time.sleep(0.2)  # give tail a few polls over the half-written line
            file.write(half[20:] + "\n")
        assert "q300" in process.stdout.readline()
        assert process.wait(timeout=60) == 0


def test_export_csv(plugin_manager: PluginManager, recorded: Path, tmp_path: Path):
    out = invoke(plugin_manager, "export", str(recorded), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(RECORDS)
    assert rows[0]["model"] == "openai:gpt-4o-mini"
    assert rows[0]["total_tokens"] == "15"
    assert rows[-1]["error_type"] == "AuthenticationError"
    target = tmp_path / "out.csv"
    CliRunner().invoke(
        build_app(plugin_manager), ["eval", "export", str(recorded), "-f", "csv", "-o", str(target)]
    )
    assert target.read_text() == out


def test_export_jsonl_round_trips(plugin_manager: PluginManager, recorded: Path):
    out = invoke(plugin_manager, "export", str(recorded), "--format", "jsonl")
    records = [EvalRecord.model_validate(json.loads(line)) for line in out.splitlines()]
    assert [r.id for r in records] == [r.id for r in RECORDS]


def test_export_refuses_other_formats(plugin_manager: PluginManager, recorded: Path):
    result = CliRunner().invoke(
        build_app(plugin_manager), ["eval", "export", str(recorded), "--format", "xml"]
    )
    assert result.exit_code != 0
    assert "csv or jsonl" in result.output


def test_summary_of_an_empty_file(plugin_manager: PluginManager, tmp_path: Path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert invoke(plugin_manager, "summary", str(empty)) == f"No records in {empty}.\n"


def test_summary_reports_lines_that_are_not_records(plugin_manager: PluginManager, tmp_path: Path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(RECORDS[0].model_dump_dict()) + "\nnot json\n[1, 2]\n")
    out = invoke(plugin_manager, "summary", str(path))
    assert "2 line(s) were not valid records" in out
