"""Hook implementations of the eval recording plugin.

Kept tiny on purpose: the stores, the record builder and the CLI load on first use, so
``import gluellm`` and ``gluellm --help`` pay nothing for this plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from types import ModuleType
from typing import TYPE_CHECKING

from gluellm import hookimpl

if TYPE_CHECKING:
    import typer

    from gluellm.call import ModelCall
    from gluellm.hookspecs import RegisterNamed, RegisterSettings
    from gluellm.runs import RunMiddleware, RunRequest
    from gluellm.runtime import Runtime


@functools.cache
def _recorder() -> ModuleType:
    # Imported on the first run, then cached: these hooks run on every call, and an
    # import statement costs about as much as the hook's own work.
    from gluellm_plugins_eval import recorder

    return recorder


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare the ``GLUELLM_EVAL_*`` settings.

    Their class also says this plugin reads the core's ``eval_recording_enabled`` and
    ``eval_recording_path``, so GlueLLM does not warn they go unread.
    """
    from gluellm_plugins_eval.settings import EvalSettings

    register(EvalSettings)


@hookimpl
def register_eval_stores(register: RegisterNamed) -> None:
    """Offer the built-in stores by name: ``jsonl``, ``sqlite``, ``callback``, ``multi``."""
    from gluellm_plugins_eval.callback import CallbackStore, MultiStore
    from gluellm_plugins_eval.jsonl import JSONLFileStore
    from gluellm_plugins_eval.sqlite import SQLiteStore

    register("jsonl", JSONLFileStore)
    register("sqlite", SQLiteStore)
    register("callback", CallbackStore)
    register("multi", MultiStore)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``gluellm eval summary | tail | export``."""
    from gluellm_plugins_eval.cli import add_eval_commands

    add_eval_commands(app)


@hookimpl
def wrap_run(run: RunRequest) -> RunMiddleware | None:
    """Record ``run`` when a store would take it; stay out otherwise.

    The store is the run's own, else the global one, else the one the settings
    configure.
    """
    middleware: RunMiddleware | None = _recorder().middleware_for(run)
    return middleware


@hookimpl
def wrap_call(call: ModelCall) -> None:
    """Note the API keys a recorded run's calls use, so its record can mask them.

    Adds no middleware: the call goes on untouched.
    """
    if call.run is not None and (call.api_key or call.api_keys):
        _recorder().collect_keys(call)


@hookimpl
def shutdown(runtime: Runtime) -> Awaitable[None]:
    """Flush the global store and the settings-built ones (they stay open)."""
    from gluellm_plugins_eval.recorder import flush_configured_stores

    return flush_configured_stores()
