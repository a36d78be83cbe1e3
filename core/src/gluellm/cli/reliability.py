"""The spec's advanced and reliability commands: hooks, correlation IDs, errors, timeouts.

The error and timeout scenarios that need a misbehaving provider use an in-process
scripted transport (`gluellm.testing`), so they show GlueLLM's handling the same way
offline and online; with a key set, each command also makes a real call.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gluellm import hookimpl
from gluellm.cli.common import (
    CommandFailed,
    ModelOption,
    offline_note,
    pick_model,
    preview,
    run_async,
)

if TYPE_CHECKING:
    from gluellm.call import CallHandler, ModelCall, ModelResponse
    from gluellm.plugins import PluginManager
    from gluellm.runs import RunEnd, RunHandler, RunRequest
    from gluellm.runtime import Runtime
    from gluellm.tools import ToolExecution, ToolHandler, ToolInvocation


class HookRecorder:
    """A plugin that records every hook GlueLLM fires during one run, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def wrap_run(self, run: RunRequest) -> Callable[[RunRequest, RunHandler], Awaitable[Any]]:
        """Note the run's start and end."""

        async def middleware(request: RunRequest, call_next: RunHandler) -> Any:
            self.events.append(f"wrap_run enter ({request.operation})")
            output = await call_next(request)
            self.events.append("wrap_run exit")
            return output

        return middleware

    @hookimpl
    def wrap_call(
        self, call: ModelCall
    ) -> Callable[[ModelCall, CallHandler], Awaitable[ModelResponse]]:
        """Note each model request."""

        async def middleware(request: ModelCall, call_next: CallHandler) -> ModelResponse:
            self.events.append(f"wrap_call ({len(request.messages)} messages)")
            return await call_next(request)

        return middleware

    @hookimpl
    def wrap_tool(
        self, invocation: ToolInvocation
    ) -> Callable[[ToolInvocation, ToolHandler], Awaitable[ToolExecution]]:
        """Note each tool execution."""

        async def middleware(request: ToolInvocation, call_next: ToolHandler) -> ToolExecution:
            self.events.append(f"wrap_tool {request.request.name}")
            return await call_next(request)

        return middleware

    @hookimpl
    def on_call_end(self, response: ModelResponse | None, duration_s: float) -> None:
        """Note each finished model request."""
        finish = response.finish_reason if response is not None else "error"
        self.events.append(f"on_call_end (finish: {finish}, {duration_s * 1000:.1f} ms)")

    @hookimpl
    def on_tool_call(self, execution: ToolExecution) -> None:
        """Note each finished tool execution."""
        self.events.append(f"on_tool_call {execution.tool_name} -> {preview(execution.result, 40)}")

    @hookimpl
    def on_run_end(self, end: RunEnd) -> None:
        """Note the run's end."""
        self.events.append(f"on_run_end ({end.status})")


def _retry_runtime(manager: PluginManager, **retry: Any) -> Runtime:
    """A runtime of ``manager`` whose retry settings are ``retry`` (when a retrier is installed).

    Without a retry plugin the settings stay as they are, so GlueLLM does not warn that
    a retry setting has no effect.
    """
    from gluellm.config import get_settings
    from gluellm.runtime import Runtime

    settings = get_settings()
    if manager.hook.get_retrier.get_hookimpls():
        settings = settings.model_copy(update=retry)
    return Runtime(manager, settings=settings)


def register(app: typer.Typer, manager: PluginManager) -> None:
    """Add the hook, correlation ID, error and timeout commands to ``app``."""

    @app.command("test-hooks")
    def test_hooks(model: ModelOption = None) -> None:
        """Register a recording plugin and print every hook a tool-calling run fires."""
        recorder = HookRecorder()

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete
            from gluellm.cli.demo import get_weather

            chosen = pick_model(runtime, model)
            await complete(
                "What's the weather in Paris?",
                model=chosen,
                system_prompt="Use get_weather for weather questions.",
                tools=[get_weather],
            )
            typer.echo(f"Hooks fired by one tool-calling run on {chosen}{offline_note(chosen)}:")
            for number, event in enumerate(recorder.events, 1):
                typer.echo(f"  {number:2}. {event}")
            fired = {event.split(" ")[0] for event in recorder.events}
            expected = {"wrap_run", "wrap_call", "on_call_end", "on_run_end"}
            if not expected <= fired:
                raise CommandFailed(f"hooks that never fired: {sorted(expected - fired)}")

        manager.register(recorder, name="cli-hook-recorder")
        try:
            run_async(manager, body)
        finally:
            manager.unregister(recorder)

    @app.command("test-correlation-ids")
    def test_correlation_ids(model: ModelOption = None) -> None:
        """Show that an ID given to a call reaches its result, its model requests and tools."""
        seen: dict[str, list[str | None]] = {"calls": [], "tools": []}

        def lookup_order(order_id: str) -> str:
            """Look an order up by its ID.

            Args:
                order_id: The order's ID, e.g. "A-1001".
            """
            from gluellm.correlation import get_correlation_id

            seen["tools"].append(get_correlation_id())
            return f"order {order_id}: shipped"

        class CallIds:
            @hookimpl
            def on_call_end(self, call: ModelCall) -> None:
                seen["calls"].append(call.correlation_id)

        observer = CallIds()

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete

            chosen = pick_model(runtime, model)
            given = "cli-demo-request-42"
            typer.echo(f"Correlation IDs on {chosen}{offline_note(chosen)}")
            first = await complete(
                "Where is order A-1001?",
                model=chosen,
                tools=[lookup_order],
                system_prompt="Use lookup_order for order questions.",
                correlation_id=given,
            )
            second = await complete("Say hi.", model=chosen)
            typer.echo(f"  given: {given} -> result: {first.correlation_id}")
            typer.echo(f"  model requests carried: {sorted({str(c) for c in seen['calls']})}")
            typer.echo(f"  tools saw: {sorted({str(t) for t in seen['tools']})}")
            typer.echo(f"  a call without one got a fresh ID: {second.correlation_id}")
            if first.correlation_id != given or given not in seen["calls"]:
                raise CommandFailed("the given correlation ID did not reach the call")
            if any(tool_id != given for tool_id in seen["tools"]):
                raise CommandFailed(f"a tool ran under another ID: {seen['tools']}")
            if not second.correlation_id or second.correlation_id == given:
                raise CommandFailed("a second call did not get an ID of its own")

        manager.register(observer, name="cli-correlation-observer")
        try:
            run_async(manager, body)
        finally:
            manager.unregister(observer)

    @app.command("test-error-handling")
    def test_error_handling(model: ModelOption = None) -> None:
        """Provoke each error class GlueLLM raises and show how it is handled."""
        runtime = _retry_runtime(manager, retry_min_wait=0, retry_max_wait=0)

        async def body(runtime: Runtime) -> None:
            chosen = pick_model(runtime, model)
            typer.echo(f"Error handling (scripted provider failures; model {chosen})")
            from gluellm.cli.scenarios import error_scenarios

            failures = 0
            for name, scenario in error_scenarios(runtime, chosen):
                try:
                    outcome = await scenario()
                except CommandFailed as error:
                    failures += 1
                    typer.echo(f"  FAIL {name}: {error}")
                else:
                    typer.echo(f"  ok   {name}: {outcome}")
            if failures:
                raise CommandFailed(f"{failures} error scenario(s) did not behave as expected")

        run_async(manager, body, runtime=runtime)

    @app.command("test-timeout")
    def test_timeout(
        timeout: Annotated[
            float, typer.Option("--timeout", "-t", min=0.01, help="Seconds per request.")
        ] = 10.0,
        model: ModelOption = None,
    ) -> None:
        """A call within TIMEOUT succeeds; a slower request raises APITimeoutError."""
        runtime = _retry_runtime(manager, retry_max_attempts=1)

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete
            from gluellm.errors import APITimeoutError
            from gluellm.runtime import override_transport
            from gluellm.testing import FunctionTransport

            chosen = pick_model(runtime, model)
            typer.echo(f"Timeouts on {chosen}{offline_note(chosen)}")
            started = time.perf_counter()
            result = await complete("Reply with one word.", model=chosen, timeout=timeout)
            elapsed = time.perf_counter() - started
            typer.echo(
                f"  within {timeout:g} s: answered in {elapsed:.2f} s: "
                f"{preview(result.final_response, 60)}"
            )

            async def slow(call: ModelCall) -> str:
                import asyncio

                await asyncio.sleep(timeout + 5)
                return "too late"

            short = min(timeout, 0.2)
            started = time.perf_counter()
            try:
                with override_transport(FunctionTransport(slow)):
                    await complete("This provider hangs.", model=chosen, timeout=short)
            except APITimeoutError as error:
                elapsed = time.perf_counter() - started
                typer.echo(f"  a hanging provider with timeout={short:g} s: {type(error).__name__}")
                typer.echo(f"    raised after {elapsed:.2f} s: {preview(str(error), 80)}")
                if elapsed > short + 2:
                    raise CommandFailed(f"the timeout fired late ({elapsed:.2f} s)") from error
            else:
                raise CommandFailed("a request slower than its timeout did not time out")

        run_async(manager, body, runtime=runtime)
