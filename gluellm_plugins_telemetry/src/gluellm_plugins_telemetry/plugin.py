"""Hook implementations of the telemetry plugin.

Kept tiny: OpenTelemetry is imported when tracing is switched on, never at
``import gluellm`` or ``gluellm --help``. With ``GLUELLM_ENABLE_TRACING`` off, every
hook returns after one flag check.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from gluellm import hookimpl

if TYPE_CHECKING:
    import typer

    from gluellm.call import CallMiddleware, ModelCall, ModelResponse
    from gluellm.hookspecs import RegisterSettings
    from gluellm.runs import RunMiddleware, RunRequest
    from gluellm.runtime import Runtime
    from gluellm.tools import ToolInvocation, ToolMiddleware


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the plugin's settings and the core tracing settings it reads."""
    from gluellm_plugins_telemetry.settings import TelemetrySettings

    register(TelemetrySettings)


@hookimpl
def startup(runtime: Runtime) -> Awaitable[None] | None:
    """Set tracing up from the runtime's settings, off the event loop, if it is on."""
    if not runtime.settings.enable_tracing:
        return None
    from gluellm_plugins_telemetry.state import configure_in_thread

    return configure_in_thread(runtime)


@hookimpl
def shutdown(runtime: Runtime) -> Awaitable[None] | None:
    """Flush spans, metrics and MLflow records when a runtime closes."""
    if not runtime.settings.enable_tracing:
        return None
    from gluellm_plugins_telemetry.state import flush_in_thread

    return flush_in_thread()


@hookimpl
def wrap_run(run: RunRequest) -> RunMiddleware | None:
    """Open the run's span (the root of its trace, or a child of its parent run's)."""
    if not run.runtime.settings.enable_tracing:
        return None
    from gluellm_plugins_telemetry.spans import run_middleware

    return run_middleware(run)


@hookimpl
def wrap_call(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Open a span per model call, under its run's span."""
    if not runtime.settings.enable_tracing:
        return None
    from gluellm_plugins_telemetry.spans import call_middleware

    return call_middleware(call, runtime)


@hookimpl
def wrap_tool(invocation: ToolInvocation, runtime: Runtime) -> ToolMiddleware | None:
    """Open a span per tool execution, under its run's span."""
    if not runtime.settings.enable_tracing:
        return None
    from gluellm_plugins_telemetry.spans import tool_middleware

    return tool_middleware(invocation, runtime)


@hookimpl
def on_retry(
    call: ModelCall, attempt: int, error: BaseException, wait_s: float, runtime: Runtime
) -> None:
    """Add the retry (error and wait) as an event of the model call's span."""
    if not runtime.settings.enable_tracing:
        return
    from gluellm_plugins_telemetry.spans import record_retry

    record_retry(call, attempt, error, wait_s)


@hookimpl
def on_call_end(
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    duration_s: float,
    runtime: Runtime,
) -> None:
    """End the model call's span; record GenAI metrics and the MLflow run metrics."""
    if not runtime.settings.enable_tracing:
        return
    from gluellm_plugins_telemetry.spans import end_call

    end_call(call, response, error, duration_s, runtime)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``gluellm test-telemetry``."""
    from gluellm_plugins_telemetry.cli import add_commands

    add_commands(app)
