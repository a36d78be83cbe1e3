"""The spec's basic test commands: completion, tools, structured output, conversations, models.

Each one runs a real GlueLLM call on the chosen model (offline on the test model when
no key is set), prints what happened, and exits 1 with a one-line reason when the call
fails or does not behave as the command expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gluellm.cli.common import (
    CommandFailed,
    ModelOption,
    offline_note,
    pick_model,
    preview,
    run_async,
)

if TYPE_CHECKING:
    from gluellm.plugins import PluginManager
    from gluellm.runtime import Runtime

FOLLOW_UPS = (
    "Hi! My name is Ada and I love astronomy.",
    "What is my name?",
    "Suggest one constellation I could look for tonight.",
    "And what do I love?",
    "Summarise our conversation in one sentence.",
)


def calculate(expression: str) -> str:
    """Evaluate a simple arithmetic expression such as ``2 * (3 + 4)``.

    Args:
        expression: Digits, spaces, ``+ - * / ( ) .`` only.
    """
    allowed = set("0123456789+-*/(). ")
    if not expression or not set(expression) <= allowed:
        return f"cannot evaluate {expression!r}: only numbers and + - * / ( ) are allowed"
    try:
        return str(
            eval(expression, {"__builtins__": {}}, {})
        )  # only digits and operators reach here
    except (SyntaxError, ZeroDivisionError) as error:
        return f"cannot evaluate {expression!r}: {error}"


def register(app: typer.Typer, manager: PluginManager) -> None:
    """Add the basic test commands to ``app``."""

    @app.command("test-completion")
    def test_completion(
        message: Annotated[
            str, typer.Option("--message", help="The user message.")
        ] = "What is the capital of France? Answer in one sentence.",
        model: ModelOption = None,
    ) -> None:
        """One completion: prints the answer, tokens and correlation ID."""

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete

            chosen = pick_model(runtime, model)
            result = await complete(message, model=chosen)
            if not result.final_response.strip():
                raise CommandFailed(f"{chosen} returned an empty answer")
            typer.echo(f"Completion on {chosen}{offline_note(chosen)}")
            typer.echo(f"  answer: {preview(result.final_response, 300)}")
            typer.echo(f"  tokens: {(result.tokens_used or {}).get('total', 'n/a')}")
            typer.echo(f"  correlation id: {result.correlation_id}")

        run_async(manager, body)

    @app.command("test-tool-call")
    def test_tool_call(
        message: Annotated[
            str, typer.Option("--message", help="The user message.")
        ] = "What's the weather in Tokyo, and what is 21 * 2?",
        model: ModelOption = None,
    ) -> None:
        """A tool loop with two tools: prints each call, its result and the answer."""

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete
            from gluellm.cli.demo import get_weather

            chosen = pick_model(runtime, model)
            result = await complete(
                message,
                model=chosen,
                system_prompt="Use the tools to answer; call each tool you need.",
                tools=[get_weather, calculate],
            )
            typer.echo(f"Tool calling on {chosen}{offline_note(chosen)}")
            for entry in result.tool_execution_history:
                typer.echo(f"  {entry['tool_name']}({entry['arguments']}) -> {entry['result']}")
            typer.echo(f"  answer: {preview(result.final_response, 300)}")
            if result.tool_calls_made == 0:
                raise CommandFailed(f"{chosen} answered without calling a tool")

        run_async(manager, body)

    @app.command("test-structured-output")
    def test_structured_output(
        data: Annotated[
            str, typer.Option("--data", "-d", help="Text to extract city facts from.")
        ] = "Tokyo, Japan is home to about 14 million people.",
        model: ModelOption = None,
    ) -> None:
        """Extract a validated CityInfo (city, country, population) from text."""

        async def body(runtime: Runtime) -> None:
            from gluellm.api import structured_complete
            from gluellm.cli.demo import CityInfo

            chosen = pick_model(runtime, model)
            info = await structured_complete(
                f"Extract the city, its country and its population from: {data}",
                response_format=CityInfo,
                model=chosen,
            )
            if not isinstance(info, CityInfo):
                raise CommandFailed(f"{chosen} gave no CityInfo: {info!r}")
            typer.echo(f"Structured output on {chosen}{offline_note(chosen)}")
            typer.echo(f"  {info!r}")
            typer.echo(f"  json: {info.model_dump_json()}")

        run_async(manager, body)

    @app.command("test-multi-turn-conversation")
    def test_multi_turn_conversation(
        turns: Annotated[
            int, typer.Option("--turns", "-t", min=1, help="Number of user turns.")
        ] = 3,
        model: ModelOption = None,
    ) -> None:
        """A GlueLLM client with memory over several turns; prints each exchange."""

        async def body(runtime: Runtime) -> None:
            from gluellm.api import GlueLLM

            chosen = pick_model(runtime, model)
            client = GlueLLM(model=chosen, system_prompt="You are a friendly, brief assistant.")
            typer.echo(f"Multi-turn conversation on {chosen}{offline_note(chosen)}")
            for turn in range(turns):
                message = FOLLOW_UPS[turn % len(FOLLOW_UPS)]
                result = await client.complete(message)
                typer.echo(f"  [{turn + 1}] user: {message}")
                typer.echo(f"      assistant: {preview(result.final_response)}")
            users = [m for m in client.conversation.messages if m.role == "user"]
            if len(users) != turns:
                raise CommandFailed(f"the conversation remembers {len(users)} of {turns} turns")
            typer.echo(f"  conversation: {len(client.conversation.messages)} messages remembered")

        run_async(manager, body)

    @app.command("test-tool-without-execution")
    def test_tool_without_execution(model: ModelOption = None) -> None:
        """Offer a tool with execute_tools=False: print the calls the model asked for."""
        executed: list[str] = []

        def delete_file(path: str) -> str:
            """Delete a file (never run here: the call is only shown).

            Args:
                path: The file to delete.
            """
            executed.append(path)
            return f"deleted {path}"

        async def body(runtime: Runtime) -> None:
            from gluellm.api import complete

            chosen = pick_model(runtime, model)
            result = await complete(
                "Please delete the file /tmp/old-report.txt.",
                model=chosen,
                system_prompt="Use the delete_file tool for file deletions.",
                tools=[delete_file],
                execute_tools=False,
            )
            typer.echo(f"Tool registration without execution on {chosen}{offline_note(chosen)}")
            for pending in result.pending_tool_calls:
                typer.echo(f"  requested: {pending}")
            if executed:
                raise CommandFailed(f"the tool ran although execute_tools=False: {executed}")
            if not result.pending_tool_calls:
                raise CommandFailed(f"{chosen} asked for no tool call")
            typer.echo(f"  {len(result.pending_tool_calls)} call(s) returned, none executed")

        run_async(manager, body)

    @app.command("test-different-models")
    def test_different_models(
        models: Annotated[
            list[str] | None,
            typer.Option("--model", "-m", help="provider:model; repeat for several."),
        ] = None,
    ) -> None:
        """Ask each model the same question; models without a plugin or key are skipped."""

        async def body(runtime: Runtime) -> None:
            chosen = list(models or [pick_model(runtime, None)])
            ran = await _compare(runtime, chosen)
            if not ran:
                offline = pick_model(runtime, None)
                typer.echo(f"No requested model could run; using {offline} instead.")
                await _compare(runtime, [offline])

        run_async(manager, body)


async def _compare(runtime: Runtime, models: list[str]) -> int:
    """Run one completion per model, print a line each; return how many ran.

    Raises:
        CommandFailed: A model that could run failed.
    """
    from gluellm.api import complete
    from gluellm.cli.demo import KEYLESS_PROVIDERS, has_key
    from gluellm.errors import LLMError
    from gluellm.model_ids import split_model

    providers = runtime.transport_providers()
    ran, failed = 0, []
    for model in models:
        provider = split_model(model)[0]
        if provider not in providers:
            typer.echo(f"  {model}: skipped (no plugin serves {provider!r})")
            continue
        if provider not in KEYLESS_PROVIDERS and not has_key(provider):
            typer.echo(f"  {model}: skipped (no key: set {provider.upper()}_API_KEY)")
            continue
        try:
            result = await complete("Say hello in five words or fewer.", model=model)
        except LLMError as error:
            failed.append(f"{model}: {type(error).__name__}: {error}")
            typer.echo(f"  {model}: FAILED {type(error).__name__}")
            continue
        ran += 1
        tokens = (result.tokens_used or {}).get("total", "n/a")
        typer.echo(f"  {model}: {preview(result.final_response, 60)} [{tokens} tokens]")
    if failed:
        raise CommandFailed(f"{len(failed)} model(s) failed; first: {failed[0]}")
    return ran
