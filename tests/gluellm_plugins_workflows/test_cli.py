"""The CLI commands run every pattern offline on the test model."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gluellm.cli.app import build_app
from gluellm.plugins import create_plugin_manager

SUMMARY = re.compile(
    r"\[(\d+) iterations, (\d+) steps, (\d+) model calls, (\d+) tokens, stop: (\w+)\]"
)


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("GLUELLM_DEFAULT_MODEL", "test:demo")
    monkeypatch.setenv("GLUELLM_LOAD_PLUGINS", "workflows,mock")
    for name in ("OPENAI_API_KEY", "GLUELLM_OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return build_app(create_plugin_manager())


def run(app, *args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# Model calls with the offline test model, which answers every decision with the first
# schema-valid value (booleans True, numbers at their minimum, one list item).
COMMANDS = [
    (["test-iterative-workflow", "-i", "Write about AI", "-n", "2", "-c", "3"], 2 * (1 + 3)),
    (["test-pipeline-workflow", "-i", "Topic: Python", "-s", "2"], 2),
    (["test-debate-workflow", "-t", "Is remote work better?", "-r", "2", "--no-judge"], 4),
    (["test-debate-workflow", "-r", "2"], 5),
    (["test-reflection-workflow", "-i", "Write about AI", "-r", "3"], 2),  # satisfied at once
    (["test-chain-of-density-workflow", "-n", "2"], 2),
    (["test-socratic-workflow", "-t", "What is Python?", "-e", "2"], 2 * 2 + 1),
    (["test-rag-workflow"], 2),
    (["test-round-robin-workflow", "-r", "1"], 3 + 1),
    (["test-consensus-workflow", "-r", "2"], 2 * 6),  # every vote abstains: no consensus
    (["test-hierarchical-workflow"], 3),
    (["test-map-reduce-workflow"], 4 + 1),
    (["test-react-workflow", "-s", "3"], 3),
    (["test-mixture-of-experts-workflow"], 1),
    (["test-constitutional-workflow"], 2),
    (["test-tree-of-thoughts-workflow"], 3),
    (["test-chat-room-workflow", "-t", "Four-day week?", "-r", "3"], 3 * 2 + 1),
]


@pytest.mark.parametrize(
    ("args", "calls"), COMMANDS, ids=[" ".join(a[:1] + a[3:]) for a, _ in COMMANDS]
)
def test_workflow_commands_run_offline(app, args, calls):
    output = run(app, *args)
    assert "on test:gluellm-test" in output
    _, steps, model_calls, tokens, stop = SUMMARY.search(output).groups()
    assert int(model_calls) == calls
    assert int(tokens) > 0
    assert stop == "completed"
    assert output.count("  [") == int(steps)  # one line per finished step, as it happened
    assert "Final output:" in output


def test_workflow_list_names_every_pattern(app):
    output = run(app, "workflow", "list")
    names = [line.split(":")[0] for line in output.splitlines()]
    assert len(names) == 16
    assert {"debate", "chat_room", "tree_of_thoughts", "map_reduce"} <= set(names)


def test_workflow_run_by_name(app):
    output = run(app, "workflow", "run", "pipeline", "Topic: tea")
    assert "Topic: tea" in output
    assert SUMMARY.search(output).group(3) == "3"


def test_workflow_run_unknown_name(app):
    result = CliRunner().invoke(app, ["workflow", "run", "nope", "x"])
    assert result.exit_code == 2
    assert "no workflow named 'nope'" in result.output
    assert "debate" in result.output


def test_adding_the_commands_imports_no_workflow_machinery():
    code = (
        "import sys; from gluellm.cli.app import build_app; build_app(); "
        "print(sorted(m for m in sys.modules if m.startswith('gluellm_plugins_workflows')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = proc.stdout.strip()
    assert loaded == str([f"gluellm_plugins_workflows{m}" for m in ("", ".cli", ".plugin")])
