"""Hook implementations: registers the workflow patterns and their CLI commands.

Nothing heavy is imported here; patterns and commands load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm import hookimpl

if TYPE_CHECKING:
    import typer

    from gluellm.hookspecs import RegisterNamed


@hookimpl
def register_workflows(register: RegisterNamed) -> None:
    """Register every pattern by name (``iterative``, ``debate``, ``chat_room`` ...)."""
    from gluellm_plugins_workflows.registry import PATTERNS, load

    for name in PATTERNS:
        register(name, load(name))


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``gluellm test-<pattern>-workflow`` and ``gluellm workflow list|run``."""
    from gluellm_plugins_workflows.cli import add_commands

    add_commands(app)
