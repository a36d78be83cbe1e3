"""``gluellm run-tests``: the installed smoke suite, its filters, and that it can fail."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from gluellm.cli import build_app, smoke
from gluellm.plugins import create_plugin_manager


def _run(*args: str) -> Any:
    app = build_app(create_plugin_manager(load_entrypoints=False))
    return CliRunner().invoke(app, ["run-tests", *args])


def test_every_offline_check_passes_and_integration_is_skipped_without_a_key() -> None:
    result = _run("--verbose")
    assert result.exit_code == 0, result.output
    offline = [t for t in smoke.SUITE if not t.integration]
    for test in offline:
        assert f"{test.suite}::{test.name} PASSED" in result.output
    assert "TestIntegration::test_real_completion SKIPPED (no API key set)" in result.output
    assert f"{len(offline)} passed, 0 failed, 2 skipped" in result.output


def test_class_and_test_filters() -> None:
    assert "3 passed, 0 failed, 0 skipped" in _run("-c", "TestBasicToolCalling").output
    assert "1 passed, 0 failed, 0 skipped" in _run("-t", "test_single_tool_call").output
    result = _run("--no-integration", "-c", "TestIntegration", "--verbose")
    assert "SKIPPED (--no-integration)" in result.output


def test_no_match_is_an_error() -> None:
    result = _run("-c", "TestNothing")
    assert result.exit_code == 1
    assert "error: no smoke check matches; classes: TestBasicCompletion" in result.output


def test_a_failing_check_fails_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(ctx: smoke.SmokeContext) -> None:
        from gluellm.api import complete

        ctx.transport.add("wrong answer")
        result = await complete("hi", model=smoke.MODEL)
        smoke.expect(result.final_response == "right answer", "the model gave the wrong answer")

    suite = (*smoke.SUITE, smoke.SmokeTest("TestBroken", "test_broken", broken))
    monkeypatch.setattr(smoke, "SUITE", suite)
    result = _run("-c", "TestBroken")
    assert result.exit_code == 1
    assert "TestBroken::test_broken FAILED: CommandFailed: the model gave the wrong answer" in (
        result.output
    )
    assert "error: 1 smoke check(s) failed" in result.output


def test_integration_checks_call_the_configured_model_when_a_key_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gluellm import hookimpl
    from gluellm.testing import FunctionTransport, reply, tool_call

    seen: list[str] = []

    def model(call: Any) -> Any:
        seen.append(call.model)
        if call.tools and call.messages[-1].get("role") == "user":
            return reply(tool_calls=[tool_call("_add", {"a": 2, "b": 3})])
        return "pong"

    class Provider:
        @hookimpl
        def register_transports(self, register: Any) -> None:
            register("live", lambda: FunctionTransport(model))

    # Integration checks build a manager from entry points; give them this provider instead.
    def create(load_entrypoints: bool = True) -> Any:
        manager = create_plugin_manager(load_entrypoints=False)
        if load_entrypoints:
            manager.register(Provider())
        return manager

    from gluellm import config

    monkeypatch.setattr("gluellm.plugins.create_plugin_manager", create)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GLUELLM_DEFAULT_MODEL", "live:model-x")
        env.setenv("LIVE_API_KEY", "sk-test")
        config.reload_settings()  # settings are cached per process; read the variables again
        try:
            manager = create(load_entrypoints=True)
            result = CliRunner().invoke(
                build_app(manager), ["run-tests", "-c", "TestIntegration", "-v"]
            )
        finally:
            env.undo()
            config.reload_settings()
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed, 0 skipped" in result.output
    assert len(seen) == 3  # one plain turn, and a tool call plus its answer
    assert set(seen) == {"live:model-x"}
