"""``gluellm run-tests``: the installed smoke suite.

A small set of checks shipped in core, grouped in classes like a test suite. The unit
checks run GlueLLM against scripted in-process transports (`gluellm.testing`), with no
plugin and no network, so they pass or fail on core's own behaviour; the integration
checks make real calls on the configured model and run only when its API key is set
(``--no-integration`` skips them). This is not the repository's pytest suite.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gluellm import hookimpl
from gluellm.cli.common import CommandFailed, fail, run_async

if TYPE_CHECKING:
    from gluellm.plugins import PluginManager
    from gluellm.runtime import Runtime
    from gluellm.testing import ScriptedTransport

Check = Callable[["SmokeContext"], Awaitable[None]]
MODEL = "scripted:smoke"


@dataclass(frozen=True)
class SmokeTest:
    """One check: ``suite`` (its class) and ``name``; integration checks need a key."""

    suite: str
    name: str
    check: Check
    integration: bool = False


@dataclass
class SmokeContext:
    """What a check gets: a scripted transport to fill, and the model for integration."""

    transport: ScriptedTransport
    model: str


def expect(condition: bool, message: str) -> None:
    """Fail the check with ``message`` unless ``condition``."""
    if not condition:
        raise CommandFailed(message)


def _add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First number.
        b: Second number.
    """
    return a + b


async def _single_tool_call(ctx: SmokeContext) -> None:
    from gluellm.api import complete
    from gluellm.testing import reply, tool_call

    ctx.transport.add(reply(tool_calls=[tool_call("_add", {"a": 2, "b": 3})]), "2 + 3 = 5")
    result = await complete("2 + 3?", model=MODEL, tools=[_add])
    expect(result.tool_calls_made == 1, f"{result.tool_calls_made} tool calls made, expected 1")
    expect(result.tool_execution_history[0]["result"] == "5", "the tool's result was not 5")
    tool_message = ctx.transport.calls[1].messages[-1]
    expect(tool_message.get("role") == "tool", "the tool result was not sent back")


async def _parallel_tool_calls(ctx: SmokeContext) -> None:
    from gluellm.api import complete
    from gluellm.testing import reply, tool_call

    calls = [tool_call("_add", {"a": i, "b": i}) for i in range(3)]
    ctx.transport.add(reply(tool_calls=calls), "done")
    result = await complete("sums", model=MODEL, tools=[_add])
    results = sorted(entry["result"] for entry in result.tool_execution_history)
    expect(results == ["0", "2", "4"], f"tool results {results}")


async def _invalid_arguments(ctx: SmokeContext) -> None:
    from gluellm.api import complete
    from gluellm.testing import reply, tool_call

    ctx.transport.add(reply(tool_calls=[tool_call("_add", {"a": "x", "b": 1})]), "sorry")
    result = await complete("add", model=MODEL, tools=[_add])
    expect(bool(result.tool_execution_history[0].get("error")), "bad arguments were not an error")
    expect(result.final_response == "sorry", "the run did not continue after the tool error")


async def _plain_completion(ctx: SmokeContext) -> None:
    from gluellm.api import complete
    from gluellm.testing import reply

    ctx.transport.add(reply("Paris", usage=(5, 1)))
    result = await complete("Capital of France?", model=MODEL, system_prompt="Be brief.")
    expect(result.final_response == "Paris", f"answer {result.final_response!r}")
    expect((result.tokens_used or {}).get("total") == 6, f"usage {result.tokens_used}")
    first = ctx.transport.calls[0].messages[0]
    expect(first.get("role") == "system", "the system prompt was not sent first")


async def _structured(ctx: SmokeContext) -> None:
    from pydantic import BaseModel

    from gluellm.api import structured_complete

    class City(BaseModel):
        name: str
        population: int

    ctx.transport.add('{"name": "Oslo"}', '{"name": "Oslo", "population": 700000}')
    city = await structured_complete("Oslo facts", response_format=City, model=MODEL)
    expect(city == City(name="Oslo", population=700000), f"wrong output {city!r}")
    expect(len(ctx.transport.calls) == 2, "an invalid answer was not re-asked once")


async def _streaming(ctx: SmokeContext) -> None:
    from gluellm.api import stream_complete

    ctx.transport.add("one two three")
    pieces = [c.content async for c in stream_complete("count", model=MODEL) if c.content]
    expect(len(pieces) == 3, f"{len(pieces)} content chunks, expected 3")
    expect("".join(pieces) == "one two three", f"streamed {''.join(pieces)!r}")


async def _memory(ctx: SmokeContext) -> None:
    from gluellm.api import GlueLLM

    ctx.transport.add("Nice to meet you, Ada.", "Your name is Ada.")
    client = GlueLLM(model=MODEL)
    await client.complete("I am Ada.")
    await client.complete("Who am I?")
    sent = [m.get("content") for m in ctx.transport.calls[1].messages]
    expect("I am Ada." in sent, "the second turn did not carry the first")
    client.reset_conversation()
    expect(not client.conversation.messages, "reset_conversation kept messages")


async def _errors_classified(ctx: SmokeContext) -> None:
    from gluellm.api import complete
    from gluellm.errors import AuthenticationError

    ctx.transport.add(AuthenticationError("bad key"))
    try:
        await complete("hi", model=MODEL)
    except AuthenticationError:
        return
    raise CommandFailed("AuthenticationError did not reach the caller")


async def _real_completion(ctx: SmokeContext) -> None:
    from gluellm.api import complete

    result = await complete("Reply with the word: pong", model=ctx.model)
    expect(bool(result.final_response.strip()), "empty answer")


async def _real_tool_call(ctx: SmokeContext) -> None:
    from gluellm.api import complete

    result = await complete("Use the tool to add 2 and 3.", model=ctx.model, tools=[_add])
    expect(result.tool_calls_made >= 1, "the model made no tool call")


SUITE: tuple[SmokeTest, ...] = (
    SmokeTest("TestBasicCompletion", "test_plain_completion", _plain_completion),
    SmokeTest("TestBasicToolCalling", "test_single_tool_call", _single_tool_call),
    SmokeTest("TestBasicToolCalling", "test_parallel_tool_calls", _parallel_tool_calls),
    SmokeTest("TestBasicToolCalling", "test_invalid_arguments", _invalid_arguments),
    SmokeTest("TestStructuredOutput", "test_reask_until_valid", _structured),
    SmokeTest("TestStreaming", "test_streams_word_by_word", _streaming),
    SmokeTest("TestConversation", "test_memory_and_reset", _memory),
    SmokeTest("TestErrors", "test_errors_reach_the_caller", _errors_classified),
    SmokeTest("TestIntegration", "test_real_completion", _real_completion, integration=True),
    SmokeTest("TestIntegration", "test_real_tool_call", _real_tool_call, integration=True),
)


def select(suite_name: str | None, test_name: str | None) -> list[SmokeTest]:
    """The checks matching ``-c`` (class) and ``-t`` (test name), in suite order."""
    return [
        test
        for test in SUITE
        if (suite_name is None or test.suite == suite_name)
        and (test_name is None or test.name == test_name)
    ]


class _ScriptedProvider:
    def __init__(self, transport: ScriptedTransport) -> None:
        self.transport = transport

    @hookimpl
    def register_transports(self, register: Any) -> None:
        register("scripted", lambda: self.transport)


async def _run_one(test: SmokeTest, model: str | None) -> None:
    """Run ``test`` on a runtime of its own (scripted provider only, unless integration)."""
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime
    from gluellm.testing import ScriptedTransport

    transport = ScriptedTransport()
    manager = create_plugin_manager(load_entrypoints=test.integration)
    manager.register(_ScriptedProvider(transport), name="smoke-scripted")
    runtime = Runtime(manager)
    with use_runtime(runtime):
        try:
            await test.check(SmokeContext(transport, model or MODEL))
        finally:
            await runtime.aclose()


def register(app: typer.Typer, manager: PluginManager) -> None:
    """Add ``run-tests`` to ``app``."""

    @app.command("run-tests")
    def run_tests(
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="One line per check.")
        ] = False,
        suite: Annotated[
            str | None, typer.Option("--class", "-c", help="Only this class of checks.")
        ] = None,
        test: Annotated[str | None, typer.Option("--test", "-t", help="Only this check.")] = None,
        no_integration: Annotated[
            bool, typer.Option("--no-integration", help="Skip the checks that call a real model.")
        ] = False,
    ) -> None:
        """Run the installed smoke suite: offline checks of core, plus real calls with a key."""
        chosen = select(suite, test)
        if not chosen:
            classes = ", ".join(sorted({t.suite for t in SUITE}))
            raise fail(CommandFailed(f"no smoke check matches; classes: {classes}"))

        async def body(runtime: Runtime) -> tuple[int, int, int]:
            from gluellm.cli.demo import choose_model

            model = choose_model(
                None, runtime.settings.default_model, runtime.transport_providers()
            )
            live = not model.startswith("test:")
            passed = failed = skipped = 0
            for item in chosen:
                label = f"{item.suite}::{item.name}"
                if item.integration and (no_integration or not live):
                    skipped += 1
                    why = "--no-integration" if no_integration else "no API key set"
                    if verbose:
                        typer.echo(f"{label} SKIPPED ({why})")
                    continue
                started = time.perf_counter()
                try:
                    await _run_one(item, model if item.integration else None)
                except Exception as error:  # a check's failure, reported and counted
                    failed += 1
                    typer.echo(f"{label} FAILED: {type(error).__name__}: {error}")
                    continue
                passed += 1
                if verbose:
                    typer.echo(f"{label} PASSED ({(time.perf_counter() - started) * 1000:.0f} ms)")
            return passed, failed, skipped

        passed, failed, skipped = run_async(manager, body)
        typer.echo(f"{passed} passed, {failed} failed, {skipped} skipped")
        if failed:
            raise fail(CommandFailed(f"{failed} smoke check(s) failed"))
