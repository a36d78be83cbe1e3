"""The hooks a GlueLLM plugin can implement.

Pluggy is synchronous: hooks that concern async work *return* async callables or
awaitables, and core awaits them. Never write ``async def`` hook implementations.
Every hook here is documented, with this exact signature, in ``docs/plugins/hooks.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import pluggy

from gluellm._markers import hookspec
from gluellm.call import CallMiddleware, ModelCall, ModelResponse, Transport

if TYPE_CHECKING:
    import typer

    from gluellm.call import Usage
    from gluellm.config import Settings
    from gluellm.runs import RunEnd, RunMiddleware, RunRequest
    from gluellm.runtime import Runtime
    from gluellm.tools import ToolExecution, ToolInvocation, ToolMiddleware

RegisterTransport: TypeAlias = Callable[[str, Callable[[], Transport]], None]
"""``register(provider, factory)``: ``factory()`` builds the transport on first use."""

RegisterTool: TypeAlias = Callable[[Callable[..., Any]], None]
"""``register(function)``: the function becomes a tool callable by its name."""

RegisterNamed: TypeAlias = Callable[[str, Any], None]
"""``register(name, obj)``: used for workflows and eval stores."""

RegisterSettings: TypeAlias = Callable[[type[Any]], None]
"""``register(settings_class)``: a pydantic-settings class of the plugin's own settings."""

# --- bootstrap -----------------------------------------------------------------


@hookspec(historic=True)
def add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add hookspecs of your own so other plugins can implement them.

    Called once for every plugin, including plugins registered later (historic).

    :param pluginmanager: The manager; call ``pluginmanager.add_hookspecs(module)``.
    """


@hookspec(historic=True)
def configure(settings: Settings) -> None:
    """Read your configuration when a runtime starts.

    Called once per runtime for every plugin, including plugins registered later
    (historic). Exceptions are logged and the plugin is skipped.

    :param settings: GlueLLM's settings (``GLUELLM_*`` environment, ``.env``).
    """


# --- registration --------------------------------------------------------------


@hookspec
def register_transports(register: RegisterTransport) -> None:
    """Offer transports for providers.

    Call ``register("openai", factory)`` once per provider name. ``factory`` is called
    with no arguments the first time a call needs that provider, so it may import heavy
    libraries; it returns a `gluellm.call.Transport`. Each plugin is called on its own:
    one that raises is named in a warning and skipped. When two plugins register the
    same provider, the one registered later wins (plugins registered by hand come after
    entry points).

    :param register: Records a provider name and its transport factory.
    """


@hookspec
def register_tools(register: RegisterTool) -> None:
    """Offer tools that callers can name in ``tools=["tool_name"]``.

    :param register: Records a function as a tool, under the function's name.
    """


@hookspec
def register_workflows(register: RegisterNamed) -> None:
    """Offer workflow patterns, found by name with ``Runtime.workflows``.

    :param register: ``register(name, workflow_class)``.
    """


@hookspec
def register_eval_stores(register: RegisterNamed) -> None:
    """Offer eval-record stores, found by name with ``Runtime.eval_stores``.

    :param register: ``register(name, store_factory)``.
    """


@hookspec
def register_settings(register: RegisterSettings) -> None:
    """Declare the plugin's own settings, read from ``GLUELLM_*`` variables and ``.env``.

    ``register(MySettings)`` where ``MySettings`` subclasses
    `gluellm.config.PluginSettings` (a pydantic-settings class with the ``GLUELLM_``
    prefix). Read them with ``runtime.settings_for(MySettings)``: one instance per
    runtime, so ``Runtime(plugin_settings=[...])`` can fix them in tests. Declared
    settings are listed by ``gluellm plugins --json``.

    :param register: Records a settings class.
    """


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add commands to the ``gluellm`` CLI.

    Import heavy modules inside the command functions, not at module top, so
    ``gluellm --help`` stays fast.

    :param app: The root Typer application; use ``@app.command()``.
    """


# --- pick one per call ---------------------------------------------------------


@hookspec(firstresult=True)
def get_retrier(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Return the retry layer for this call, or None for no retries.

    The retrier sits inside middleware and outside the rate limiter, so every attempt
    takes its own permit. Stops at the first non-None result.

    :param call: The call about to be made.
    :param runtime: The runtime making the call (read settings from it).
    """


@hookspec(firstresult=True)
def get_rate_limiter(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Return the rate-limiting layer for this call, or None for no limit.

    It sits right outside the transport. Stops at the first non-None result.

    :param call: The call about to be made (one attempt of it).
    :param runtime: The runtime making the call (read settings from it).
    """


@hookspec(firstresult=True)
def estimate_cost(
    model: str, provider: str, usage: Usage, operation: str, runtime: Runtime
) -> float | None:
    """Return what ``usage`` on ``model`` costs in US dollars, or None if you don't know.

    Asked once per finished model turn (and embedding request) unless the user set a
    price for the model in ``GLUELLM_MODEL_PRICES``. Stops at the first non-None
    result: mark your implementation ``tryfirst=True`` to price models before the
    genai-prices plugin does. An implementation that raises is logged and skipped, and
    the next one is asked.

    :param model: The model string (``provider:model``).
    :param provider: The provider part of ``model``.
    :param usage: The tokens the turn used.
    :param operation: ``chat`` or ``embedding``.
    :param runtime: The runtime making the call.
    """


# --- middleware ----------------------------------------------------------------


@hookspec
def wrap_run(run: RunRequest) -> RunMiddleware | None:
    """Return a middleware that wraps a whole run, or None to stay out.

    A run is one logical call: ``complete``, ``structured_complete``, a stream, an
    embedding, one ``GlueLLM`` turn (tool loop and re-asks included), or a group
    (workflow, batch). The middleware is ``async (run, call_next) -> output``: output
    is a `ToolExecutionResult`, an `EmbeddingResult`, a group's result, or for streamed
    runs a `gluellm.runs.StreamedRun` (use its ``add_done_callback`` to learn when and
    how the stream ended). Called for every plugin; the first result is the outermost
    layer. ``run.runtime`` is the runtime; ``run.parent`` the enclosing run.

    :param run: The run about to start.
    """


@hookspec
def wrap_call(call: ModelCall, runtime: Runtime) -> CallMiddleware | None:
    """Return a middleware that wraps this logical model call, or None to stay out.

    Middleware sees the call once, before retries (tracing, caching, fallbacks). The
    transport is chosen after middleware, from the call it passes on, so a middleware
    may reroute a call to another model. Called for every plugin; the first result is
    the outermost layer. ``call.run`` is the run the call belongs to.

    :param call: The call about to be made.
    :param runtime: The runtime making the call.
    """


@hookspec
def wrap_tool(invocation: ToolInvocation, runtime: Runtime) -> ToolMiddleware | None:
    """Return a middleware that wraps one tool execution, or None to stay out.

    The middleware is ``async (invocation, call_next) -> ToolExecution``. It may time
    the tool, open a span, veto it (return ``invocation.refuse(reason)`` without calling
    ``call_next``), or bound it (``asyncio.timeout`` around ``call_next``). Called for
    every plugin; the first result is the outermost layer.

    :param invocation: The tool call about to run (name, raw arguments, run).
    :param runtime: The runtime running the tool loop.
    """


# --- observers -----------------------------------------------------------------


@hookspec
def on_run_end(run: RunRequest, end: RunEnd) -> None:
    """Observe a finished run: its output or error, status, latency, usage and cost.

    Fired once per run; for streams when the stream ends (``end.status`` says how:
    ``ok``, ``error``, ``cancelled``, or ``closed`` when the reader stopped early).
    Called for every plugin; exceptions are logged, never raised into the call.

    :param run: The run that ended.
    :param end: How it ended.
    """


@hookspec
def on_call_end(
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    duration_s: float,
    runtime: Runtime,
) -> None:
    """Observe a finished model call (after retries).

    Called for every plugin; exceptions are logged, never raised into the call.

    :param call: The call that was made.
    :param response: The answer (``estimated_cost_usd`` filled in), or None on failure.
    :param error: The error the caller receives, or None on success.
    :param duration_s: Wall time of the whole call, retries included.
    :param runtime: The runtime that made the call.
    """


@hookspec
def on_retry(
    call: ModelCall, attempt: int, error: BaseException, wait_s: float, runtime: Runtime
) -> None:
    """Observe a retry that is about to happen; fired by retry plugins.

    Retry plugins fire it through `gluellm.pipeline.notify_retry`, which also counts
    the retry in the run's stats. Called for every plugin; exceptions are logged,
    never raised into the call.

    :param call: The call being retried.
    :param attempt: The number of the attempt that failed (1 for the first).
    :param error: What the failed attempt raised.
    :param wait_s: Seconds until the next attempt.
    :param runtime: The runtime making the call.
    """


@hookspec
def on_tool_call(execution: ToolExecution, runtime: Runtime) -> None:
    """Observe a tool execution, successful or not.

    Called for every plugin; exceptions are logged, never raised into the call.

    :param execution: The tool's name, arguments, result or error, and timing.
    :param runtime: The runtime running the tool loop.
    """


# --- lifecycle -----------------------------------------------------------------


@hookspec
def startup(runtime: Runtime) -> Awaitable[None] | None:
    """Prepare shared resources when a runtime starts; may return an awaitable.

    :param runtime: The runtime starting up.
    """


@hookspec
def shutdown(runtime: Runtime) -> Awaitable[None] | None:
    """Release shared resources when a runtime closes; may return an awaitable.

    Exceptions are logged; every plugin gets its turn.

    :param runtime: The runtime closing.
    """
