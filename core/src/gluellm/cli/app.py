"""Builds the Typer application: core commands plus what plugins register."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

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
        cls=_HelpFlagGroup,
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
    _resolve_annotations(app)
    _use_help_flag_groups(app)
    return app


class _HelpFlagGroup(TyperGroup):
    """typer's command group, whose ``--help`` flag is False, not None, when not given.

    typer 0.29 converts a None flag value through a pydantic ``TypeAdapter``, so a
    group whose ``--help`` was not given imported pydantic (~80 ms) as soon as a
    subcommand was named, even for ``gluellm batch --help``. A flag that is False is
    passed through as it is.
    """

    def get_help_option(self, ctx: Any) -> TyperOption | None:
        """The ``--help`` option, False by default.

        Args:
            ctx: The group's click context.
        """
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


def _use_help_flag_groups(app: typer.Typer) -> None:
    """Make `_HelpFlagGroup` the class of ``app``'s command groups that chose none."""
    for group in app.registered_groups:
        if group.typer_instance is None:
            continue
        # typer prefers a class given to add_typer() or @callback() over this one.
        if isinstance(group.typer_instance.info.cls, DefaultPlaceholder | types.NoneType):
            group.typer_instance.info.cls = _HelpFlagGroup
        _use_help_flag_groups(group.typer_instance)


def _resolve_annotations(app: typer.Typer) -> None:
    """Evaluate the string annotations of every command's function once, in place.

    Modules with ``from __future__ import annotations`` hand typer strings, and typer
    evaluates each one four times while it turns a command into a click command (for
    its signature and its type hints, twice per command): about half of building the
    command list on every ``gluellm --help``. typer then reads the values it would
    have evaluated itself. A function whose annotations do not evaluate is left as it
    is, for typer to report.
    """
    for function in _command_functions(app):
        annotations = function.__annotations__
        if not any(isinstance(value, str) for value in annotations.values()):
            continue
        try:
            function.__annotations__ = typing.get_type_hints(function, include_extras=True)
        except Exception:  # typer raises its own error for this command when it builds it
            continue


def _command_functions(app: typer.Typer) -> Iterator[types.FunctionType]:
    """The functions behind ``app``'s commands and callbacks, command groups included."""
    callbacks: list[object] = [info.callback for info in app.registered_commands]
    if app.registered_callback is not None:
        callbacks.append(app.registered_callback.callback)
    for group in app.registered_groups:
        callbacks.append(group.callback)
        if group.typer_instance is not None:
            yield from _command_functions(group.typer_instance)
    for callback in callbacks:
        if isinstance(callback, types.FunctionType):
            yield callback


def main() -> None:
    """Entry point of the ``gluellm`` script."""
    build_app()()
