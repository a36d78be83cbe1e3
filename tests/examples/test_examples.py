"""Every script in examples/ runs offline on the test model, and `gluellm examples` finds them.

Each script runs in its own process from a temporary folder, with GLUELLM_EXAMPLE_DIR
pointing there, so nothing is written outside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Script -> what it prints when it worked, and the files it must write to its folder.
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "basic_usage": (["answer: (test model)", "BASIC USAGE OK"], []),
    "tool_calling": (["tool: get_weather(", "TOOL CALLING OK"], []),
    "structured_output": (["PersonInfo(name=", "STRUCTURED OUTPUT OK"], []),
    "streaming": (["chunks, tokens:", "STREAMING OK"], []),
    "embeddings": (["2 vectors of 8 dimensions", "EMBEDDINGS OK"], []),
    "conversations": (["saved and restored 4 messages", "CONVERSATIONS OK"], ["conversation.json"]),
    "batch_processing": (["4/4 succeeded", "BATCH OK"], []),
    "workflows": (["step 3: edit", "3 model calls", "WORKFLOWS OK"], []),
    "eval_recording": (
        ["record: success=False error_type=ConfigurationError", "EVAL RECORDING OK"],
        ["records.jsonl"],
    ),
    "opentelemetry_tracing": (["span: execute_tool get_weather", "TRACING OK"], []),
    "logging_example": (["GlueLLM records in example.log", "LOGGING OK"], ["example.log"]),
}


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUELLM_")}
    env.update(GLUELLM_EXAMPLE_DIR=str(folder), GLUELLM_LOG_DIR=str(folder / "logs"))
    return env


def test_every_example_is_covered() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    markers, files = EXPECTED[name]
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for marker in markers:
        assert marker in proc.stdout
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "logs")
    assert written == sorted(files)


def test_gluellm_examples_lists_and_runs_them(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "GLUELLM_EXAMPLES_DIR": str(EXAMPLES)}
    command = [sys.executable, "-m", "gluellm.cli", "examples"]
    listing = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=True
    )
    for name in EXPECTED:
        assert f"  {name}" in listing.stdout
    assert "Basic usage: one completion" in listing.stdout  # the docstring's first line
    run = subprocess.run(
        [*command, "run", "basic_usage"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "BASIC USAGE OK" in run.stdout
    missing = subprocess.run(
        [*command, "run", "nope"], capture_output=True, text=True, env=env, timeout=60
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no example 'nope'; there are: basic_usage")


def test_examples_folder_missing_says_where_they_are(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gluellm.cli import build_app, examples
    from gluellm.plugins import create_plugin_manager

    app = build_app(create_plugin_manager(load_entrypoints=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(examples, "examples_dir", lambda: None)
        result = CliRunner().invoke(app, ["examples"])
    assert result.exit_code == 1
    assert "ship in the GlueLLM repository, not in the package" in result.output
