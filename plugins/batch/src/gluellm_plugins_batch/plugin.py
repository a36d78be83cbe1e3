"""Hook implementations: the ``batch`` CLI commands. Nothing heavy is imported here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``gluellm batch``, ``test-batch-processing`` and ``test-api-key-pool``."""
    from gluellm_plugins_batch.cli import add_commands

    add_commands(app)
