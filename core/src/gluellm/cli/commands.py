"""Core commands: ``plugins``, ``complete``, ``test-streaming`` and ``demo``; the rest by theme.

The spec's other core commands live in `gluellm.cli.checks` (basic tests),
`gluellm.cli.reliability` (hooks, correlation IDs, errors, timeouts), `gluellm.cli.smoke`
(``run-tests``), `gluellm.cli.chat` and `gluellm.cli.examples`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gluellm.plugins import PluginInfo, PluginManager


def register_core_commands(app: typer.Typer, manager: PluginManager) -> None:
    """Add the commands every installation has."""
    from gluellm.cli import chat, checks, examples, reliability, smoke

    _register_basics(app, manager)
    checks.register(app, manager)
    reliability.register(app, manager)
    smoke.register(app, manager)
    chat.register(app, manager)
    examples.register(app)


def _register_basics(app: typer.Typer, manager: PluginManager) -> None:
    """``plugins``, ``complete``, ``test-streaming`` and ``demo``."""

    @app.command("plugins")
    def plugins(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List installed plugins, their hooks, and plugins that failed to load or in a hook.

        Runs every plugin's configure and registration hooks first, so a plugin that
        raises in one is shown as failing, not healthy.
        """
        _exercise_registrations(manager)
        infos = manager.plugin_infos()
        failures = manager.load_failures
        if as_json:
            payload = {
                "plugins": [_plugin_json(info) for info in infos],
                "load_errors": [
                    {"name": f.name, "distribution": f.distribution, "error": f.error}
                    for f in failures
                ],
            }
            import json

            typer.echo(json.dumps(payload, indent=2))
            return
        if not infos:
            typer.echo("No plugins loaded.")
        for info in infos:
            source = f"{info.distribution} {info.version}" if info.distribution else "registered"
            typer.echo(f"{info.name} ({source}): {', '.join(info.hooks)}")
            for hook_failure in info.failures:
                times = "once" if hook_failure.count == 1 else f"{hook_failure.count} times"
                typer.echo(f"  FAILING in {hook_failure.hook} ({times}): {hook_failure.last_error}")
        for failure in failures:
            typer.echo(f"FAILED {failure.name} ({failure.distribution}): {failure.error}")

    @app.command("complete")
    def complete_command(
        prompt: Annotated[str, typer.Argument(help="The user message.")],
        model: Annotated[str | None, typer.Option("--model", "-m", help="provider:model")] = None,
        system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    ) -> None:
        """Run one completion and print the answer."""
        import asyncio

        from gluellm.errors import LLMError
        from gluellm.runtime import Runtime, use_runtime

        async def run() -> str:
            from gluellm.api import complete

            runtime = Runtime(manager)
            with use_runtime(runtime):
                try:
                    result = await complete(prompt, model=model, system_prompt=system)
                finally:
                    await runtime.aclose()
            return result.final_response

        try:
            typer.echo(asyncio.run(run()))
        except LLMError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from error

    @app.command("test-streaming")
    def test_streaming(
        message: Annotated[
            str, typer.Option("--message", "-m", help="The user message.")
        ] = "Tell me a short story about a robot learning to paint.",
        model: Annotated[
            str | None,
            typer.Option("--model", help="provider:model; default: configured or test model"),
        ] = None,
    ) -> None:
        """Stream a completion, printing tokens as they arrive."""
        import asyncio

        from gluellm.cli.demo import choose_model
        from gluellm.errors import LLMError
        from gluellm.runtime import Runtime, use_runtime

        async def run() -> None:
            from gluellm.api import stream_complete

            runtime = Runtime(manager)
            chosen = choose_model(
                model, runtime.settings.default_model, runtime.transport_providers()
            )
            chunks = 0
            with use_runtime(runtime):
                try:
                    async for chunk in stream_complete(message, model=chosen):
                        if chunk.kind == "content":
                            chunks += 1
                            # echo flushes every write, so each token shows as it arrives.
                            typer.echo(chunk.content, nl=False)
                        elif chunk.done and chunk.result is not None:
                            tokens = (chunk.result.tokens_used or {}).get("total", "n/a")
                            typer.echo(f"\n\n[{chosen}: {chunks} chunks, {tokens} tokens]")
                finally:
                    await runtime.aclose()

        try:
            asyncio.run(run())
        except LLMError as error:
            typer.echo(f"\nerror: {error}", err=True)
            raise typer.Exit(1) from error

    @app.command("demo")
    def demo(
        model: Annotated[
            str | None,
            typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
        ] = None,
    ) -> None:
        """Show completion, tools, structured output and memory; offline without an API key."""
        import asyncio

        from gluellm.cli.demo import run_demo

        raise typer.Exit(asyncio.run(run_demo(manager, model)))


def _exercise_registrations(manager: PluginManager) -> None:
    """Run the configure and registration hooks, recording failures in ``manager``."""
    from gluellm.runtime import Runtime

    try:
        runtime = Runtime(manager)
        runtime.configure()
        runtime.transport_providers()
        _built = (runtime.tools, runtime.workflows, runtime.eval_stores)  # properties run hooks
    except Exception as error:  # e.g. invalid GLUELLM_* settings: still list the plugins
        typer.echo(f"warning: could not run the plugins' registration hooks: {error}", err=True)


def _plugin_json(info: PluginInfo) -> dict[str, Any]:
    """One plugin in ``gluellm plugins --json``; ``hook_failures`` only when it has some."""
    entry: dict[str, Any] = {
        "name": info.name,
        "distribution": info.distribution,
        "version": info.version,
        "hooks": list(info.hooks),
    }
    if info.failures:
        entry["hook_failures"] = [
            {
                "hook": f.hook,
                "count": f.count,
                "first_error": f.first_error,
                "last_error": f.last_error,
            }
            for f in info.failures
        ]
    return entry
