"""``gluellm chat``: an interactive, streaming, multi-turn session.

Reads one message per line from stdin (so it can be piped), streams each answer as it
arrives, and understands ``/reset``, ``/exit``, ``/save PATH`` and ``/load PATH``. The
conversation is saved as the JSON of `gluellm.models.conversation.Conversation`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gluellm.cli.common import CommandFailed, ModelOption, offline_note, pick_model, run_async

if TYPE_CHECKING:
    from gluellm.api import GlueLLM
    from gluellm.models.conversation import Conversation
    from gluellm.plugins import PluginManager
    from gluellm.runtime import Runtime

HELP = "Commands: /reset  /save PATH  /load PATH  /exit  (end of input exits too)"


def load_tool(spec: str) -> Callable[..., Any]:
    """The function named by ``module:function``.

    Raises:
        CommandFailed: The module cannot be imported or has no such callable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CommandFailed(f"--tools {spec!r}: use module:function, e.g. mytools:get_weather")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise CommandFailed(f"--tools {spec!r}: cannot import {module_name!r}: {error}") from error
    function = getattr(module, attribute, None)
    if not callable(function):
        raise CommandFailed(f"--tools {spec!r}: {module_name} has no function {attribute!r}")
    return function  # type: ignore[no-any-return]


def read_conversation(path: Path) -> Conversation:
    """The conversation saved at ``path``.

    Raises:
        CommandFailed: The file is missing or is not a saved conversation.
    """
    from pydantic import ValidationError

    from gluellm.models.conversation import Conversation

    try:
        return Conversation.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as error:
        reason = str(error).splitlines()[0]
        raise CommandFailed(f"cannot load a conversation from {path}: {reason}") from error


def replace_conversation(client: GlueLLM, loaded: Conversation) -> None:
    """Make ``loaded`` the client's conversation (its ID and messages)."""
    conversation = client.conversation
    conversation.clear()
    conversation.id = loaded.id
    conversation.messages.extend(loaded.messages)


async def _answer(client: GlueLLM, message: str) -> None:
    """Stream the answer to ``message``, tool calls and results included."""
    import contextlib

    async with contextlib.aclosing(client.stream_complete(message)) as chunks:
        async for chunk in chunks:
            if chunk.kind == "content":
                typer.echo(chunk.content, nl=False)
            elif chunk.kind == "tool_call" and chunk.tool_call is not None:
                call = chunk.tool_call
                typer.echo(f"\n[tool] {call.name}({call.arguments})", nl=False)
            elif chunk.kind == "tool_result" and chunk.tool_result is not None:
                typer.echo(f" -> {chunk.tool_result.result}\n", nl=False)
    typer.echo("")


def _command(client: GlueLLM, line: str) -> bool:
    """Handle a ``/`` command; return False to end the session.

    Raises:
        CommandFailed: A ``/save`` or ``/load`` failed (the session goes on).
    """
    name, _, argument = line.partition(" ")
    argument = argument.strip()
    if name in ("/exit", "/quit"):
        return False
    if name == "/reset":
        client.reset_conversation()
        typer.echo("(conversation cleared)")
    elif name == "/save":
        if not argument:
            raise CommandFailed("/save needs a path")
        path = Path(argument).expanduser()
        try:
            path.write_text(client.conversation.model_dump_json(indent=2), encoding="utf-8")
        except OSError as error:
            raise CommandFailed(f"cannot save to {path}: {error}") from error
        typer.echo(f"(saved {len(client.conversation.messages)} messages to {path})")
    elif name == "/load":
        if not argument:
            raise CommandFailed("/load needs a path")
        loaded = read_conversation(Path(argument).expanduser())
        replace_conversation(client, loaded)
        typer.echo(f"(loaded {len(loaded.messages)} messages from {argument})")
    else:
        typer.echo(HELP)
    return True


def register(app: typer.Typer, manager: PluginManager) -> None:
    """Add ``chat`` to ``app``."""

    @app.command("chat")
    def chat(
        model: ModelOption = None,
        system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
        tools: Annotated[
            list[str] | None,
            typer.Option("--tools", help="A tool as module:function; repeat for more."),
        ] = None,
        load: Annotated[
            Path | None, typer.Option("--load", help="Start from a saved conversation (JSON).")
        ] = None,
    ) -> None:
        """Chat with a model: answers stream as they arrive; /reset /save /load /exit."""

        async def body(runtime: Runtime) -> None:
            from gluellm.api import GlueLLM
            from gluellm.errors import LLMError

            functions = [load_tool(spec) for spec in tools or ()]
            chosen = pick_model(runtime, model)
            client = GlueLLM(model=chosen, system_prompt=system, tools=functions)
            if load is not None:
                replace_conversation(client, read_conversation(load))
            names = ", ".join(f.__name__ for f in functions) or "none"
            typer.echo(f"Chatting with {chosen}{offline_note(chosen)}; tools: {names}")
            typer.echo(HELP)
            errors = 0
            while True:
                if sys.stdin.isatty():
                    typer.echo("you> ", nl=False)
                line = sys.stdin.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    if line.startswith("/"):
                        if not _command(client, line):
                            break
                        continue
                    typer.echo("assistant> ", nl=False)
                    await _answer(client, line)
                except (CommandFailed, LLMError) as error:
                    from gluellm.cli.common import one_line

                    errors += 1
                    typer.echo(f"\nerror: {one_line(error)}", err=True)
            typer.echo("bye")
            if errors:
                raise CommandFailed(f"{errors} message(s) or command(s) failed in this session")

        run_async(manager, body)
