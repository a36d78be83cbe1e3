"""The CLI, run as a real subprocess: plugin listing, broken plugins, core commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Annotated

import typer
from typer.testing import CliRunner

from gluellm import hookimpl
from gluellm.cli import build_app
from gluellm.plugins import create_plugin_manager

GOOD = """
from gluellm import hookimpl

@hookimpl
def register_commands(app):
    @app.command("hello")
    def hello(name: str = "world"):
        print(f"hello {name}")
"""

BROKEN = "raise ImportError('missing dependency xyz')\n"


def _run(*args, site=None, **env):
    full_env = {**os.environ, **env}
    if site is not None:
        full_env["PYTHONPATH"] = os.pathsep.join([str(site), full_env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "gluellm.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def test_plugins_json_lists_plugins_and_load_errors(plugin_dist):
    site = plugin_dist({"good": GOOD, "broken": BROKEN})
    proc = _run("plugins", "--json", site=site)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    good = next(p for p in payload["plugins"] if p["name"] == "good")
    assert good == {
        "name": "good",
        "distribution": "gluellm-plugins-fake",
        "version": "0.1",
        "hooks": ["register_commands"],
    }
    [error] = [e for e in payload["load_errors"] if e["name"] == "broken"]
    assert "missing dependency xyz" in error["error"]
    assert "'broken'" in proc.stderr  # the warning names it too


def test_plugin_commands_work_and_a_broken_plugin_does_not_break_the_cli(plugin_dist):
    site = plugin_dist({"good": GOOD, "broken": BROKEN})
    proc = _run("hello", "--name", "glue", site=site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello glue"


def test_empty_load_plugins_lists_none(plugin_dist):
    site = plugin_dist({"good": GOOD})
    proc = _run("plugins", "--json", site=site, GLUELLM_LOAD_PLUGINS="")
    assert json.loads(proc.stdout) == {"plugins": [], "load_errors": []}


def test_a_plugin_whose_command_hook_raises_is_skipped(capsys):
    class Bad:
        @hookimpl
        def register_commands(self, app):
            raise RuntimeError("bad command plugin")

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Bad(), name="bad")
    app = build_app(manager)
    assert "plugin 'bad' failed to add its commands" in capsys.readouterr().err
    result = CliRunner().invoke(app, ["plugins"])
    assert result.exit_code == 0
    assert "bad (registered): register_commands" in result.output


def test_complete_command_runs_a_completion():
    class Echo:
        @hookimpl
        def register_transports(self, register):
            from gluellm.testing import FunctionTransport

            register(
                "echo",
                lambda: FunctionTransport(lambda call: f"echo: {call.messages[-1]['content']}"),
            )

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Echo(), name="echo")
    result = CliRunner().invoke(build_app(manager), ["complete", "ping", "--model", "echo:x"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "echo: ping"


def test_complete_command_reports_errors_without_a_traceback():
    manager = create_plugin_manager(load_entrypoints=False)
    result = CliRunner().invoke(build_app(manager), ["complete", "ping", "--model", "none:x"])
    assert result.exit_code == 1
    assert "No transport serves provider 'none'" in result.output


def test_help_lists_the_core_commands():
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("plugins", "complete", "demo"):
        assert command in proc.stdout


def test_plugin_commands_with_string_annotations_parse_as_written():
    # This module has `from __future__ import annotations`: typer gets strings, which
    # build_app evaluates once (typer would evaluate each four times per --help).
    seen = []

    class Greeter:
        @hookimpl
        def register_commands(self, app):
            def greet(
                name: Annotated[str, typer.Argument(help="Who to greet.")],
                times: Annotated[int, typer.Option("--times", "-n", min=1)] = 1,
                shout: bool = False,
            ) -> None:
                """Greet NAME."""
                seen.append((name, times, shout))

            group = typer.Typer(help="Salutations.")

            @group.callback()
            def salute(ctx: typer.Context) -> None:
                """Salute commands."""

            group.command("wave")(greet)
            app.command("greet")(greet)
            app.add_typer(group, name="salute")

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Greeter(), name="greeter")
    app = build_app(manager)
    greet = next(c.callback for c in app.registered_commands if c.name == "greet")
    assert not any(isinstance(a, str) for a in greet.__annotations__.values())
    runner = CliRunner()
    result = runner.invoke(app, ["greet", "--help"])
    assert result.exit_code == 0, result.output
    assert "Who to greet." in result.output
    assert "--times" in result.output
    assert runner.invoke(app, ["greet", "Ada", "-n", "2", "--shout"]).exit_code == 0
    assert runner.invoke(app, ["salute", "wave", "Bo"]).exit_code == 0
    assert seen == [("Ada", 2, True), ("Bo", 1, False)]
    assert runner.invoke(app, ["greet", "Ada", "-n", "0"]).exit_code == 2  # min=1 still holds


def test_a_command_annotation_that_does_not_evaluate_is_left_to_typer():
    class Odd:
        @hookimpl
        def register_commands(self, app):
            def odd(value: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
                """Never run."""

            app.command("odd")(odd)

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Odd(), name="odd")
    app = build_app(manager)  # does not raise
    odd = next(c.callback for c in app.registered_commands if c.name == "odd")
    assert odd.__annotations__["value"] == "NotDefinedAnywhere"
