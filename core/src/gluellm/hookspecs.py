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

    from gluellm.config import Settings
    from gluellm.runtime import Runtime
    from gluellm.tools import ToolExecution

RegisterTransport: TypeAlias = Callable[[str, Callable[[], Transport]], None]
"""``register(provider, factory)``: ``factory()`` builds the transport on first use."""

RegisterTool: TypeAlias = Callable[[Callable[..., Any]], None]
"""``register(function)``: the function becomes a tool callable by its name."""

RegisterNamed: TypeAlias = Callable[[str, Any], None]
"""``register(name, obj)``: used for workflows and eval stores."""

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
def register_commands(app: typer.Typer) -> None:
    """Add commands to the ``gluellm`` CLI.

    Import heavy modules inside the command functions, not at module top, so
    ``gluellm --help`` stays fast.

    :param app: The root Typer application; use ``@app.command()``.
    """


# --- pick one per call ---------------------------------------------------------


@hookspec(firstresult=True)
def get_retrier(call: ModelCall) -> CallMiddleware | None:
    """Return the retry layer for this call, or None for no retries.

    The retrier sits inside middleware and outside the rate limiter, so every attempt
    takes its own permit. Stops at the first non-None result.

    :param call: The call about to be made.
    """


@hookspec(firstresult=True)
def get_rate_limiter(call: ModelCall) -> CallMiddleware | None:
    """Return the rate-limiting layer for this call, or None for no limit.

    It sits right outside the transport. Stops at the first non-None result.

    :param call: The call about to be made (one attempt of it).
    """


# --- middleware ----------------------------------------------------------------


@hookspec
def wrap_call(call: ModelCall) -> CallMiddleware | None:
    """Return a middleware that wraps this logical call, or None to stay out.

    Middleware sees the call once, before retries (tracing, recording, caching).
    Called for every plugin; the first result is the outermost layer.

    :param call: The call about to be made.
    """


# --- observers -----------------------------------------------------------------


@hookspec
def on_call_end(
    call: ModelCall,
    response: ModelResponse | None,
    error: BaseException | None,
    duration_s: float,
) -> None:
    """Observe a finished model call (after retries).

    Called for every plugin; exceptions are logged, never raised into the call.

    :param call: The call that was made.
    :param response: The answer, or None when the call failed.
    :param error: The error the caller receives, or None on success.
    :param duration_s: Wall time of the whole call, retries included.
    """


@hookspec
def on_retry(call: ModelCall, attempt: int, error: BaseException, wait_s: float) -> None:
    """Observe a retry that is about to happen; fired by retry plugins.

    Called for every plugin; exceptions are logged, never raised into the call.

    :param call: The call being retried.
    :param attempt: The number of the attempt that failed (1 for the first).
    :param error: What the failed attempt raised.
    :param wait_s: Seconds until the next attempt.
    """


@hookspec
def on_tool_call(execution: ToolExecution) -> None:
    """Observe a tool execution, successful or not.

    Called for every plugin; exceptions are logged, never raised into the call.

    :param execution: The tool's name, arguments, result or error, and timing.
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
