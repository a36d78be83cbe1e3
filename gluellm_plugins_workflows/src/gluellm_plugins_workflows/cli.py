"""CLI commands: ``gluellm test-<pattern>-workflow`` for every pattern, ``gluellm workflow``.

Every command runs offline on the test model when no provider key is set (or with
``GLUELLM_DEFAULT_MODEL=test:demo``), and against the configured model otherwise.
Heavy imports happen inside the commands, so ``gluellm --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from gluellm_plugins_workflows.base import BaseWorkflow

__all__ = ["add_commands", "run_demo"]

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
]
InputOption = Annotated[str | None, typer.Option("--input", "-i", help="The workflow's input.")]
TopicOption = Annotated[str | None, typer.Option("--topic", "-t", help="The topic.")]


def _preview(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def run_demo(pattern: str, text: str | None, model: str | None, options: dict[str, Any]) -> None:
    """Build the pattern's demo workflow, stream its steps to stdout, print the result.

    Raises:
        typer.Exit: With code 1 when a step fails.
    """
    import asyncio

    from gluellm.cli.demo import choose_model
    from gluellm.errors import LLMError
    from gluellm.runtime import Runtime, use_runtime
    from gluellm_plugins_workflows.demos import BUILDERS, DEFAULT_INPUTS

    async def run() -> None:
        runtime = Runtime()
        chosen = choose_model(model, runtime.settings.default_model, runtime.transport_providers())
        workflow = BUILDERS[pattern](chosen, options)
        typer.echo(f"{pattern} workflow on {chosen}")
        try:
            with use_runtime(runtime):
                await _show(workflow, text or DEFAULT_INPUTS[pattern])
        finally:
            await runtime.aclose()

    try:
        asyncio.run(run())
    except LLMError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


async def _show(workflow: BaseWorkflow, text: str) -> None:
    """Print each finished step as it happens, then the result."""
    async for event in workflow.stream(text):
        if event.kind == "step_finished":
            typer.echo(f"  [{event.step}] {event.agent} ({event.role}): {_preview(event.output)}")
        elif event.kind == "workflow_finished" and event.result is not None:
            result = event.result
            tokens = (result.tokens_used or {}).get("total", "n/a")
            typer.echo(f"\nFinal output:\n{result.final_output}\n")
            typer.echo(
                f"[{result.iterations} iterations, {len(result.agent_interactions)} steps, "
                f"{result.model_calls} model calls, {tokens} tokens, stop: {result.stop_reason}]"
            )


def add_commands(app: typer.Typer) -> None:
    """Add the workflow commands to ``app``."""

    @app.command("test-iterative-workflow")
    def iterative(
        input: InputOption = None,
        iterations: Annotated[int, typer.Option("--iterations", "-n", min=1)] = 3,
        critics: Annotated[int, typer.Option("--critics", "-c", min=1, max=4)] = 2,
        model: ModelOption = None,
    ) -> None:
        """Iterative refinement: a writer, critics in parallel, revisions."""
        run_demo("iterative", input, model, {"iterations": iterations, "critics": critics})

    @app.command("test-pipeline-workflow")
    def pipeline(
        input: InputOption = None,
        stages: Annotated[int, typer.Option("--stages", "-s", min=1, max=4)] = 3,
        model: ModelOption = None,
    ) -> None:
        """Pipeline: research, write, edit (each stage feeds the next)."""
        run_demo("pipeline", input, model, {"stages": stages})

    @app.command("test-debate-workflow")
    def debate(
        topic: TopicOption = None,
        rounds: Annotated[int, typer.Option("--rounds", "-r", min=1)] = 3,
        no_judge: Annotated[
            bool, typer.Option("--no-judge", help="Debate without a judge.")
        ] = False,
        model: ModelOption = None,
    ) -> None:
        """Debate: Pro and Con argue in rounds; a judge decides."""
        run_demo("debate", topic, model, {"rounds": rounds, "no_judge": no_judge})

    @app.command("test-reflection-workflow")
    def reflection(
        input: InputOption = None,
        reflections: Annotated[int, typer.Option("--reflections", "-r", min=1)] = 3,
        model: ModelOption = None,
    ) -> None:
        """Reflection: generate, critique, improve."""
        run_demo("reflection", input, model, {"reflections": reflections})

    @app.command("test-chain-of-density-workflow")
    def chain_of_density(
        input: InputOption = None,
        iterations: Annotated[int, typer.Option("--iterations", "-n", min=1)] = 3,
        model: ModelOption = None,
    ) -> None:
        """Chain of density: ever denser versions of a summary."""
        run_demo("chain_of_density", input, model, {"iterations": iterations})

    @app.command("test-socratic-workflow")
    def socratic(
        topic: TopicOption = None,
        exchanges: Annotated[int, typer.Option("--exchanges", "-e", min=1)] = 3,
        model: ModelOption = None,
    ) -> None:
        """Socratic dialogue: questions and answers, then a synthesis."""
        run_demo("socratic", topic, model, {"exchanges": exchanges})

    @app.command("test-rag-workflow")
    def rag(input: InputOption = None, model: ModelOption = None) -> None:
        """RAG: retrieve from a small corpus, answer, verify, cite sources."""
        run_demo("rag", input, model, {})

    @app.command("test-round-robin-workflow")
    def round_robin(
        input: InputOption = None,
        rounds: Annotated[int, typer.Option("--rounds", "-r", min=1)] = 2,
        model: ModelOption = None,
    ) -> None:
        """Round-robin: writer, editor and reviewer take turns."""
        run_demo("round_robin", input, model, {"rounds": rounds})

    @app.command("test-consensus-workflow")
    def consensus(
        input: InputOption = None,
        rounds: Annotated[int, typer.Option("--rounds", "-r", min=1)] = 3,
        model: ModelOption = None,
    ) -> None:
        """Consensus: three agents propose and vote."""
        run_demo("consensus", input, model, {"rounds": rounds})

    @app.command("test-hierarchical-workflow")
    def hierarchical(input: InputOption = None, model: ModelOption = None) -> None:
        """Hierarchical: a manager plans, workers execute in parallel, the manager synthesizes."""
        run_demo("hierarchical", input, model, {})

    @app.command("test-map-reduce-workflow")
    def map_reduce(input: InputOption = None, model: ModelOption = None) -> None:
        """MapReduce: chunks mapped in parallel, then reduced."""
        run_demo("map_reduce", input, model, {})

    @app.command("test-react-workflow")
    def react(
        input: InputOption = None,
        steps: Annotated[int, typer.Option("--steps", "-s", min=1)] = 5,
        model: ModelOption = None,
    ) -> None:
        """ReAct: thought, action (a weather tool), observation, answer."""
        run_demo("react", input, model, {"steps": steps})

    @app.command("test-mixture-of-experts-workflow")
    def mixture_of_experts(input: InputOption = None, model: ModelOption = None) -> None:
        """Mixture of experts: keyword routing to a math and a code expert."""
        run_demo("mixture_of_experts", input, model, {})

    @app.command("test-constitutional-workflow")
    def constitutional(
        input: InputOption = None,
        revisions: Annotated[int, typer.Option("--revisions", "-r", min=1)] = 2,
        model: ModelOption = None,
    ) -> None:
        """Constitutional: generate, check principles, revise."""
        run_demo("constitutional", input, model, {"revisions": revisions})

    @app.command("test-tree-of-thoughts-workflow")
    def tree_of_thoughts(
        input: InputOption = None,
        depth: Annotated[int, typer.Option("--depth", "-d", min=1)] = 2,
        model: ModelOption = None,
    ) -> None:
        """Tree of thoughts: branch, score, prune, answer from the best path."""
        run_demo("tree_of_thoughts", input, model, {"depth": depth})

    @app.command("test-chat-room-workflow")
    def chat_room(
        topic: TopicOption = None,
        rounds: Annotated[int, typer.Option("--rounds", "-r", min=1)] = 4,
        model: ModelOption = None,
    ) -> None:
        """Chat room: a moderator picks who speaks in a shared conversation."""
        run_demo("chat_room", topic, model, {"rounds": rounds})

    workflow_app = typer.Typer(help="List and run the registered workflow patterns.")

    @workflow_app.command("list")
    def list_workflows() -> None:
        """List every registered workflow pattern (from all plugins)."""
        from gluellm.runtime import get_runtime

        for name, cls in sorted(get_runtime().workflows.items()):
            doc = (getattr(cls, "__doc__", None) or "").strip().splitlines()
            typer.echo(f"{name}: {doc[0] if doc else cls.__name__}")

    @workflow_app.command("run")
    def run_workflow(
        name: Annotated[str, typer.Argument(help="A name from `gluellm workflow list`.")],
        text: Annotated[str, typer.Argument(help="The workflow's input.")],
        model: ModelOption = None,
    ) -> None:
        """Run a registered pattern's demo setup on your input."""
        from gluellm.runtime import get_runtime
        from gluellm_plugins_workflows.demos import BUILDERS

        registered = get_runtime().workflows
        if name not in registered:
            known = ", ".join(sorted(registered)) or "none"
            typer.echo(f"error: no workflow named {name!r}. Registered: {known}.", err=True)
            raise typer.Exit(2)
        if name not in BUILDERS:
            typer.echo(
                f"error: {name!r} is registered by a plugin without a demo setup; construct "
                "it in Python and call `await workflow.execute(...)`.",
                err=True,
            )
            raise typer.Exit(2)
        run_demo(name, text, model, {})

    app.add_typer(workflow_app, name="workflow")
