"""``gluellm examples``: list and run the example scripts.

The examples ship in the repository's ``examples/`` folder, not in the wheel. The
command looks for them in ``GLUELLM_EXAMPLES_DIR``, then ``./examples``, then next to
the source checkout GlueLLM runs from; from a plain ``pip install``, clone the
repository (or set ``GLUELLM_EXAMPLES_DIR``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from gluellm.cli.common import CommandFailed, fail

NOT_FOUND = (
    "The example scripts ship in the GlueLLM repository, not in the package: run from a "
    "checkout's root (its examples/ folder), or set GLUELLM_EXAMPLES_DIR to that folder."
)


def examples_dir() -> Path | None:
    """Where the example scripts are, or None when none of the places has them."""
    candidates = []
    if configured := os.environ.get("GLUELLM_EXAMPLES_DIR"):
        candidates.append(Path(configured))
    candidates.append(Path.cwd() / "examples")
    # core/src/gluellm/cli/examples.py -> the checkout's root is four folders up.
    candidates.append(Path(__file__).resolve().parents[4] / "examples")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.py")):
            return candidate
    return None


def summary(script: Path) -> str:
    """The first line of the script's module docstring."""
    import ast

    try:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    except (OSError, SyntaxError):
        return ""
    return (doc or "").strip().splitlines()[0] if doc else ""


def scripts(folder: Path) -> dict[str, Path]:
    """The runnable examples in ``folder`` by name (file name without ``.py``)."""
    return {p.stem: p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}


def register(app: typer.Typer) -> None:
    """Add ``examples`` and ``examples run NAME`` to ``app``."""
    group = typer.Typer(
        help="List the example scripts; `gluellm examples run NAME` runs one.",
        invoke_without_command=True,
        no_args_is_help=False,
        rich_markup_mode=None,
    )

    @group.callback()
    def examples(ctx: typer.Context) -> None:
        """List the example scripts (they ship in the repository's examples/ folder)."""
        if ctx.invoked_subcommand is not None:
            return
        folder = examples_dir()
        if folder is None:
            raise fail(CommandFailed(NOT_FOUND))
        found = scripts(folder)
        typer.echo(f"Examples in {folder} (run one with: gluellm examples run NAME):")
        width = max((len(name) for name in found), default=0)
        for name, path in found.items():
            typer.echo(f"  {name.ljust(width)}  {summary(path)}")

    @group.command("run")
    def run(
        name: Annotated[str, typer.Argument(help="The example's name, e.g. basic_usage.")],
    ) -> None:
        """Run one example script with this Python; its exit code is the command's."""
        folder = examples_dir()
        if folder is None:
            raise fail(CommandFailed(NOT_FOUND))
        found = scripts(folder)
        script = found.get(name.removesuffix(".py"))
        if script is None:
            raise fail(CommandFailed(f"no example {name!r}; there are: {', '.join(found)}"))
        code = subprocess.call([sys.executable, str(script)])
        if code:
            raise fail(CommandFailed(f"example {name} exited with code {code}"))

    app.add_typer(group, name="examples")
