"""Placeholders for the spec's commands whose plugin is not installed.

After every plugin added its commands, each spec command still missing gets a stand-in
that names the distribution to install and exits 1, so it shows in ``gluellm --help``
instead of vanishing.
"""

from __future__ import annotations

import typer
from typer.main import get_command_name

PLUGIN_COMMANDS: dict[str, tuple[str, str]] = {
    "test-batch-processing": ("gluellm-plugins-batch", "Run a small batch of requests."),
    "test-api-key-pool": ("gluellm-plugins-batch", "Spread a batch over a pool of API keys."),
    "batch": ("gluellm-plugins-batch", "Answer every request of a JSONL file."),
    "test-telemetry": ("gluellm-plugins-telemetry", "Trace a run with OpenTelemetry."),
    "test-rate-limiting": ("gluellm-plugins-aiolimiter", "Show the sliding-window rate limit."),
    "eval": ("gluellm-plugins-eval", "Summarise, follow and export eval records."),
    "workflow": ("gluellm-plugins-workflows", "List and run the registered workflows."),
    **{
        f"test-{pattern}-workflow": (
            "gluellm-plugins-workflows",
            f"Run the {pattern.replace('-', ' ')} workflow demo.",
        )
        for pattern in (
            "iterative",
            "pipeline",
            "debate",
            "reflection",
            "chain-of-density",
            "socratic",
            "rag",
            "round-robin",
            "consensus",
            "hierarchical",
            "map-reduce",
            "react",
            "mixture-of-experts",
            "constitutional",
            "tree-of-thoughts",
            "chat-room",
        )
    },
}
"""Spec command -> (the distribution that provides it, a one-line description)."""


def registered_names(app: typer.Typer) -> set[str]:
    """Names of the commands and command groups ``app`` has now."""
    names: set[str] = set()
    for command in app.registered_commands:
        if command.name:
            names.add(command.name)
        elif command.callback is not None:
            names.add(get_command_name(command.callback.__name__))
    for group in app.registered_groups:
        name = group.name or (group.typer_instance.info.name if group.typer_instance else None)
        if isinstance(name, str):
            names.add(name)
    return names


def install_hint(distribution: str) -> str:
    """The line a placeholder prints."""
    return f"This command needs {distribution}: pip install {distribution}"


def add_missing(app: typer.Typer) -> list[str]:
    """Add a placeholder for every plugin-owned spec command ``app`` lacks; return their names."""
    present = registered_names(app)
    added = []
    for name, (distribution, description) in PLUGIN_COMMANDS.items():
        if name in present:
            continue
        _placeholder(app, name, distribution, description)
        added.append(name)
    return added


def _placeholder(app: typer.Typer, name: str, distribution: str, description: str) -> None:
    hint = install_hint(distribution)

    def placeholder(ctx: typer.Context) -> None:
        typer.echo(hint, err=True)
        raise typer.Exit(1)

    placeholder.__doc__ = f"[needs {distribution}] {description}"
    app.command(
        name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(placeholder)
