"""Every command of the spec's CLI Reference with every distribution installed, offline.

Walks ``gluellm --help`` in a real process, checks each reference command is listed
and served by its plugin (not an install-hint placeholder), then runs each reference
command line, as the spec writes it, in a fresh ``gluellm`` process on the test model.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gluellm.cli import build_app
from gluellm.cli.placeholders import PLUGIN_COMMANDS

# The spec's "CLI Reference" command lines, shared with the other reference test.
CLI_REFERENCE = [
    line
    for line in (Path(__file__).parents[1] / "cli_reference.txt").read_text().splitlines()
    if line and not line.startswith("#")
]

NAMES = sorted({shlex.split(line)[1] for line in CLI_REFERENCE})

# What a command prints when it did its job, beyond exit code 0 (workflow commands all
# end with their summary line).
MARKERS = {
    "test-completion": "answer: (test model)",
    "test-tool-call": "calculate({'expression':",
    "test-streaming": "chunks,",
    "test-structured-output": "CityInfo(city=",
    "test-multi-turn-conversation": "messages remembered",
    "demo": "4. Conversation memory",
    "examples": "opentelemetry_tracing",
    "test-batch-processing": "test:",
    "test-hooks": "on_run_end (ok)",
    "test-correlation-ids": "tools saw: ['cli-demo-request-42']",
    "test-api-key-pool": "test:",
    "test-telemetry": "execute_tool get_weather",
    "test-error-handling": "ok   rate limit: retried",  # the stamina plugin is installed
    "test-rate-limiting": "refused: it would wait",
    "test-timeout": "APITimeoutError",
    "test-tool-without-execution": "none executed",
    "test-different-models": "test:gluellm-test: (test model) You said: 'Say hello",
    "run-tests": "passed, 0 failed",
}


def _gluellm(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GLUELLM_DEFAULT_MODEL": "test:demo",
        "GLUELLM_LOG_DIR": str(cwd / "logs"),
        "GLUELLM_EVAL_RECORDING_PATH": str(cwd / "records.jsonl"),
    }
    return subprocess.run(
        [sys.executable, "-m", "gluellm.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_help_lists_every_reference_command_served_by_its_plugin(tmp_path: Path) -> None:
    proc = _gluellm(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(maxsplit=1) for line in proc.stdout.splitlines() if line.startswith("  ")]
    listed = {row[0]: (row[1] if len(row) > 1 else "") for row in rows}
    assert set(NAMES) - set(listed) == set()
    placeholders = sorted(name for name, text in listed.items() if text.startswith("[needs"))
    assert placeholders == []  # every plugin is installed, so no stand-in is left


@pytest.mark.parametrize("name", NAMES)
def test_each_reference_command_has_help(name: str) -> None:
    result = CliRunner().invoke(build_app(), [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize("line", CLI_REFERENCE)
def test_reference_command_runs_offline(line: str, tmp_path: Path) -> None:
    proc = _gluellm(shlex.split(line)[1:], tmp_path)
    assert proc.returncode == 0, f"{line}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.stdout.strip()
    assert "This command needs" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    name = shlex.split(line)[1]
    assert MARKERS.get(name, "model calls,") in proc.stdout
    if name in PLUGIN_COMMANDS:
        assert "error:" not in proc.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("logs", "records.jsonl")] == []


HEAVY = (
    "pydantic",
    "pydantic_settings",
    "opentelemetry",
    "mlflow",
    "genai_prices",
    "any_llm",
    "openai",
    "anthropic",
    "aiolimiter",
    "redis",
    "httpx",
    "aiohttp",
    "jinja2",
    # asyncio brings ssl, socket and concurrent.futures: ~20 ms of every `gluellm --help`.
    "asyncio",
    "ssl",
)


def test_building_the_whole_cli_imports_no_heavy_module() -> None:
    probe = (
        "import sys, typer.main\n"
        "from gluellm.cli import build_app\n"
        "typer.main.get_command(build_app())\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["complete", "--help"],
        ["batch", "--help"],
        ["workflow", "--help"],
        ["eval", "summary", "--help"],
    ],
)
def test_help_imports_no_heavy_module(args: list[str]) -> None:
    # `gluellm ... --help` as the entry point runs it; the loaded modules go to stderr.
    probe = (
        "import sys\n"
        "from gluellm.cli import main\n"
        f"sys.argv = ['gluellm', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        f"    print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage: gluellm" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "[]"
