"""What the ``test-*`` commands share: picking the model, running async work, one-line errors.

Every command runs offline on the test model (``test:``, from gluellm-plugins-mock) when
no API key is set for the configured model, and on the configured or requested model
otherwise. Failures end the process with exit code 1 and one line on stderr:
``error: <ErrorClass>: <message>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from gluellm.plugins import PluginManager
    from gluellm.runtime import Runtime

T = TypeVar("T")

MOCK_INSTALL_HINT = "pip install gluellm-plugins-mock"

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
]


class CommandFailed(Exception):
    """A check did not behave as expected; the message is the one-line reason."""


def one_line(error: BaseException) -> str:
    """``error`` as ``ErrorClass: first line of its message``."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(error, CommandFailed):
        return first
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def fail(error: BaseException) -> typer.Exit:
    """Print ``error: <reason>`` on stderr and return the exit to raise (code 1)."""
    typer.echo(f"error: {one_line(error)}", err=True)
    return typer.Exit(1)


def pick_model(runtime: Runtime, requested: str | None) -> str:
    """The model a command uses: ``requested``, the configured one with a key, else offline.

    Raises:
        CommandFailed: The offline test model is needed but not installed.
    """
    from gluellm.cli.demo import OFFLINE_MODEL, choose_model

    providers = runtime.transport_providers()
    model = choose_model(requested, runtime.settings.default_model, providers)
    if model == OFFLINE_MODEL and "test" not in providers:
        raise CommandFailed(
            "No API key is set and the offline test model is not installed. Set "
            f"OPENAI_API_KEY (or another provider's key), or run: {MOCK_INSTALL_HINT}"
        )
    return model


def run_async(
    manager: PluginManager,
    body: Callable[[Runtime], Awaitable[T]],
    runtime: Runtime | None = None,
) -> T:
    """Run ``body(runtime)`` on a fresh runtime of ``manager``; close it; one-line errors.

    Args:
        manager: The plugins the runtime uses.
        body: The command's async work.
        runtime: A runtime to use instead of a fresh one (it is closed afterwards too).

    Raises:
        typer.Exit: With code 1 when ``body`` raised; the reason is printed first.
    """
    import asyncio

    from gluellm.runtime import Runtime, use_runtime

    async def main() -> T:
        rt = runtime or Runtime(manager)
        with use_runtime(rt):
            try:
                return await body(rt)
            finally:
                await rt.aclose()

    try:
        return asyncio.run(main())
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise
    except Exception as error:  # every failure becomes one line and exit code 1
        raise fail(error) from error


def offline_note(model: str) -> str:
    """`` (offline test model)`` when ``model`` is the test model, else nothing."""
    return " (offline test model)" if model.startswith("test:") else ""


def preview(text: str | None, width: int = 100) -> str:
    """``text`` on one line, cut to ``width`` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
