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

# The command lines of the spec's "CLI Reference" (GlueLLM README, sections "Available
# Commands" and "Workflow Test Commands"), copied as written: the spec file lives
# outside this repository.
CLI_REFERENCE = [
    "gluellm test-completion",
    "gluellm test-tool-call",
    "gluellm test-streaming",
    'gluellm test-streaming -m "Tell me a joke"',
    "gluellm test-structured-output",
    'gluellm test-structured-output -d "Paris, France has 2 million people"',
    "gluellm test-multi-turn-conversation",
    "gluellm test-multi-turn-conversation -t 5",
    "gluellm demo",
    "gluellm examples",
    "gluellm test-batch-processing",
    "gluellm test-batch-processing -c 10 -n 5",
    "gluellm test-hooks",
    "gluellm test-correlation-ids",
    "gluellm test-api-key-pool",
    "gluellm test-api-key-pool -k 3",
    "gluellm test-telemetry",
    "gluellm test-error-handling",
    "gluellm test-rate-limiting",
    "gluellm test-rate-limiting -r 10",
    "gluellm test-timeout",
    "gluellm test-timeout -t 10.0",
    "gluellm test-tool-without-execution",
    "gluellm test-different-models",
    "gluellm test-different-models -m openai:gpt-4o -m anthropic:claude-3-sonnet",
    "gluellm run-tests",
    "gluellm run-tests --verbose",
    "gluellm run-tests -c TestBasicToolCalling",
    "gluellm run-tests -t test_single_tool_call",
    "gluellm run-tests --no-integration",
    "gluellm test-iterative-workflow",
    'gluellm test-iterative-workflow -i "Write about AI" -n 3 -c 2',
    "gluellm test-pipeline-workflow",
    'gluellm test-pipeline-workflow -i "Topic: Python" -s 3',
    "gluellm test-debate-workflow",
    'gluellm test-debate-workflow -t "Is remote work better?" -r 3 --no-judge',
    "gluellm test-reflection-workflow",
    'gluellm test-reflection-workflow -i "Write about AI" -r 3',
    "gluellm test-chain-of-density-workflow",
    "gluellm test-socratic-workflow",
    'gluellm test-socratic-workflow -t "What is Python?" -e 5',
    "gluellm test-rag-workflow",
    "gluellm test-round-robin-workflow",
    "gluellm test-consensus-workflow",
    "gluellm test-hierarchical-workflow",
    "gluellm test-map-reduce-workflow",
    "gluellm test-react-workflow",
    "gluellm test-mixture-of-experts-workflow",
    "gluellm test-constitutional-workflow",
    "gluellm test-tree-of-thoughts-workflow",
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
    "opentelemetry",
    "any_llm",
    "openai",
    "anthropic",
    "aiolimiter",
    "redis",
    "httpx",
    "aiohttp",
    "jinja2",
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
