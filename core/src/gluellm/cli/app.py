"""Builds the Typer application: core commands plus what plugins register."""

from __future__ import annotations

import typer

from gluellm.plugins import PluginManager, create_plugin_manager


def build_app(plugin_manager: PluginManager | None = None) -> typer.Typer:
    """The ``gluellm`` application with every plugin's commands added.

    Args:
        plugin_manager: Where plugin commands come from; by default the installed plugins.
    """
    from gluellm.cli import commands, new_plugin, placeholders

    manager = plugin_manager or create_plugin_manager()
    app = typer.Typer(
        name="gluellm",
        help="GlueLLM: run completions, demos and plugin tools from the shell.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help: rich's renderer costs ~0.3 s of imports on every `gluellm --help`.
        rich_markup_mode=None,
    )
    commands.register_core_commands(app, manager)
    new_plugin.register(app)
    for impl in reversed(manager.hook.register_commands.get_hookimpls()):
        try:
            impl.function(app=app)
        except Exception as error:  # one broken plugin must not take the CLI down
            typer.echo(
                f"warning: plugin {impl.plugin_name!r} failed to add its commands "
                f"({type(error).__name__}: {error}); skipped.",
                err=True,
            )
    # Spec commands whose plugin is missing show up with the install hint.
    placeholders.add_missing(app)
    return app


def main() -> None:
    """Entry point of the ``gluellm`` script."""
    build_app()()
