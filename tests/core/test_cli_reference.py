"""Every command of the spec's CLI Reference, with core alone.

Core's commands run offline and exit 0; the plugin-owned ones show up in ``--help`` as
placeholders that name the distribution to install and exit 1. The offline model here
is a tiny function-backed ``test`` provider (the mock plugin is not installed with
core alone): it calls every offered tool, answers structured requests with JSON built
from the schema, and echoes the user otherwise.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gluellm import hookimpl
from gluellm.call import ModelCall, ModelResponse
from gluellm.cli import build_app
from gluellm.cli.placeholders import PLUGIN_COMMANDS
from gluellm.errors import AuthenticationError
from gluellm.plugins import create_plugin_manager
from gluellm.testing import FunctionTransport, reply, tool_call

# The spec's "CLI Reference" command lines, shared with the other reference test.
CLI_REFERENCE = [
    line
    for line in (Path(__file__).parents[1] / "cli_reference.txt").read_text().splitlines()
    if line and not line.startswith("#")
]

# What each core command prints when it worked (beyond exit code 0).
CORE_MARKERS = {
    "test-completion": "answer: echo: What is the capital of France?",
    "test-tool-call": "get_weather(",
    "test-streaming": "chunks,",
    "test-structured-output": "CityInfo(",
    "test-multi-turn-conversation": "messages remembered",
    "demo": "4. Conversation memory",
    "examples": "basic_usage",
    "test-hooks": "wrap_tool get_weather",
    "test-correlation-ids": "given: cli-demo-request-42 -> result: cli-demo-request-42",
    "test-error-handling": "ok   failing tool",
    "test-timeout": "APITimeoutError",
    "test-tool-without-execution": "none executed",
    "test-different-models": ": echo: Say hello in five words or fewer.",
    "run-tests": "passed, 0 failed",
}


def _argv(line: str) -> list[str]:
    return shlex.split(line)[1:]


def _value(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "object":
        return {name: _value(sub) for name, sub in schema.get("properties", {}).items()}
    return {"integer": 1, "number": 1.5, "boolean": True, "array": []}.get(str(kind), "x")


def offline_answer(call: ModelCall) -> ModelResponse | str:
    """The test model: call every offered tool once, fill schemas, else echo the user."""
    last = call.messages[-1]
    if call.tools and last.get("role") == "user":
        calls = [
            tool_call(t["function"]["name"], _value(t["function"].get("parameters", {})))
            for t in call.tools
        ]
        return reply(tool_calls=calls, usage=(3, 1))
    if call.response_format is not None:
        return json.dumps(_value(call.response_format.model_json_schema()))
    if last.get("role") == "tool":
        return reply(f"tool said: {last.get('content')}", usage=(3, 3))
    users = [m.get("content") for m in call.messages if m.get("role") == "user"]
    return reply(f"echo: {users[-1]} ({len(users)} user turns)", usage=(4, 4))


class OfflineTestModel:
    """Serves ``test:*`` with `offline_answer`, and ``bad:*`` with an authentication error."""

    @hookimpl
    def register_transports(self, register: Any) -> None:
        register("test", lambda: FunctionTransport(offline_answer))
        register("bad", lambda: FunctionTransport(self._reject))

    @staticmethod
    def _reject(call: ModelCall) -> str:
        raise AuthenticationError("Incorrect API key provided: sk-...1234\nsecond line")


def _app(*plugins: object) -> Any:
    manager = create_plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        manager.register(plugin)
    return build_app(manager)


@pytest.fixture(autouse=True)
def _offline_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("GLUELLM_DEFAULT_MODEL", "test:demo")
    monkeypatch.setenv("GLUELLM_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.chdir(tmp_path)


def test_help_lists_every_reference_command_with_core_alone() -> None:
    env = {**os.environ, "GLUELLM_LOAD_PLUGINS": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "gluellm.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")}
    wanted = {_argv(line)[0] for line in CLI_REFERENCE}
    assert wanted - listed == set()
    assert "chat" in listed


CORE_LINES = [line for line in CLI_REFERENCE if _argv(line)[0] not in PLUGIN_COMMANDS]
PLUGIN_LINES = [line for line in CLI_REFERENCE if _argv(line)[0] in PLUGIN_COMMANDS]


@pytest.mark.parametrize("line", CORE_LINES)
def test_core_reference_command_runs_offline(line: str) -> None:
    argv = _argv(line)
    result = CliRunner().invoke(_app(OfflineTestModel()), argv)
    assert result.exit_code == 0, result.output
    assert CORE_MARKERS[argv[0]] in result.output


@pytest.mark.parametrize("line", PLUGIN_LINES)
def test_plugin_reference_command_without_its_plugin_names_the_install(line: str) -> None:
    argv = _argv(line)
    distribution = PLUGIN_COMMANDS[argv[0]][0]
    result = CliRunner().invoke(_app(), argv)
    assert result.exit_code == 1
    assert f"This command needs {distribution}: pip install {distribution}" in result.output


def test_a_plugin_that_registers_the_command_replaces_the_placeholder() -> None:
    class Telemetry:
        @hookimpl
        def register_commands(self, app: Any) -> None:
            @app.command("test-telemetry")
            def test_telemetry() -> None:
                print("real telemetry command")

    result = CliRunner().invoke(_app(Telemetry()), ["test-telemetry"])
    assert result.exit_code == 0
    assert result.output.strip() == "real telemetry command"


def test_a_provider_error_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(_app(OfflineTestModel()), ["test-completion", "-m", "bad:gpt-4o"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: AuthenticationError: Incorrect API key provided: sk-...1234"
    ]


@pytest.mark.parametrize("command", ["test-tool-call", "demo", "chat", "test-hooks"])
def test_without_a_key_or_the_test_model_commands_say_what_to_install(command: str) -> None:
    result = CliRunner().invoke(_app(), [command], input="")
    assert result.exit_code == 1
    assert result.output.startswith("error: No API key is set")
    assert "pip install gluellm-plugins-mock" in result.output


def test_a_different_model_that_fails_fails_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAD_API_KEY", "sk-wrong")  # with a key set, the model is tried
    result = CliRunner().invoke(
        _app(OfflineTestModel()), ["test-different-models", "-m", "test:a", "-m", "bad:b"]
    )
    assert result.exit_code == 1
    assert "test:a: echo:" in result.output
    assert "error: 1 model(s) failed; first: bad:b: AuthenticationError" in result.output
