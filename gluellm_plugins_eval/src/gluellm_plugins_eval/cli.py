"""``gluellm eval``: summarise, follow and export recorded runs (JSONL or SQLite).

Only typer is imported here; reading and summarising load inside the commands, so
``gluellm --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

PathArgument = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A JSONL file or SQLite database."
    ),
]


def add_eval_commands(app: typer.Typer) -> None:
    """Attach the ``eval`` command group to the ``gluellm`` app.

    Args:
        app: The root ``gluellm`` Typer app.
    """
    group = typer.Typer(
        name="eval",
        help="Summarise, follow and export eval records.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    group.command("summary")(summary)
    group.command("tail")(tail)
    group.command("export")(export)
    app.add_typer(group, name="eval")


def summary(
    path: PathArgument,
    top_errors: Annotated[int, typer.Option(help="How many distinct errors to list.")] = 5,
) -> None:
    """Runs, success rate, p50/p95 latency, tokens and cost by model, and top errors."""
    from gluellm_plugins_eval.reading import cursor_for, summarise

    cursor = cursor_for(path)
    records = cursor.read()
    if not records:
        typer.echo(f"No records in {path}.")
        return
    typer.echo(summarise(records, top_errors=top_errors))
    if cursor.bad_lines:
        typer.echo(f"\n{cursor.bad_lines} line(s) were not valid records and were skipped.")


def tail(
    path: PathArgument,
    lines: Annotated[int, typer.Option("-n", "--lines", help="Records to show first.")] = 10,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Keep printing new records.")
    ] = True,
    count: Annotated[
        int | None,
        typer.Option(help="Stop after printing this many records in all (default: never)."),
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between checks for news.")] = 0.5,
) -> None:
    """Print the last records, then new ones as they are recorded."""
    import time

    from gluellm_plugins_eval.reading import cursor_for, tail_line

    cursor = cursor_for(path)
    printed = 0
    for record in cursor.read()[-lines:] if lines > 0 else []:
        typer.echo(tail_line(record))
        printed += 1
        if count is not None and printed >= count:
            return
    while follow:
        time.sleep(interval)
        for record in cursor.read():
            typer.echo(tail_line(record))
            printed += 1
            if count is not None and printed >= count:
                return


def export(
    path: PathArgument,
    format: Annotated[str, typer.Option("--format", "-f", help="csv or jsonl.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the records as CSV (flat columns) or JSONL (whole records)."""
    import json
    import sys

    from gluellm_plugins_eval.reading import csv_rows, load_records

    if format not in ("csv", "jsonl"):
        raise typer.BadParameter("must be csv or jsonl", param_hint="--format")
    records = load_records(path)
    if format == "csv":
        chunks = csv_rows(records)
    else:
        chunks = (json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        for chunk in chunks:
            file.write(chunk)
    typer.echo(f"Wrote {len(records)} records to {output}.", err=True)
