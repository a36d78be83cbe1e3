"""``gluellm test-telemetry``: trace one tool-calling run and print its spans.

Spans go to an in-memory exporter and are printed, so the command needs no collector;
set ``GLUELLM_ENABLE_TRACING=true`` and ``OTEL_EXPORTER_OTLP_ENDPOINT`` to send your
own runs' spans to one (examples/opentelemetry_tracing.py). OpenTelemetry is imported
when the command runs, never at ``gluellm --help``.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["add_commands"]


def add_commands(app: typer.Typer) -> None:
    """Add ``test-telemetry`` to ``app``."""
    app.command("test-telemetry")(telemetry_command)


def telemetry_command(
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
    ] = None,
) -> None:
    """Trace a tool-calling run with OpenTelemetry and print the spans (in-memory exporter)."""
    import asyncio

    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gluellm.cli.common import CommandFailed, fail, pick_model
    from gluellm.cli.demo import get_weather
    from gluellm.config import get_settings
    from gluellm.runtime import Runtime, use_runtime
    from gluellm_plugins_telemetry.api import configure_tracing, flush_tracing, shutdown_tracing
    from gluellm_plugins_telemetry.settings import TelemetrySettings

    settings = get_settings().model_copy(update={"enable_tracing": True})
    exporter = InMemorySpanExporter()

    async def run() -> str:
        from gluellm.api import complete

        runtime = Runtime(
            settings=settings,
            plugin_settings=[TelemetrySettings(mlflow_metrics=False)],
        )
        with use_runtime(runtime):
            try:
                chosen = pick_model(runtime, model)
                await complete(
                    "What's the weather in Lisbon?",
                    model=chosen,
                    system_prompt="Use get_weather for weather questions.",
                    tools=[get_weather],
                )
            finally:
                await runtime.aclose()
        return chosen

    configure_tracing(settings, span_exporter=exporter, mlflow_metrics=False, force=True)
    try:
        chosen = asyncio.run(run())
        flush_tracing()
    except Exception as error:  # every failure: one line, exit code 1
        raise fail(error) from error
    finally:
        shutdown_tracing()
    spans = sorted(exporter.get_finished_spans(), key=lambda span: span.start_time or 0)
    typer.echo(f"Spans of one tool-calling run on {chosen} ({len(spans)} exported):")
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    for span in spans:
        depth, parent = 0, span.parent
        while parent is not None and parent.span_id in by_id:
            depth += 1
            parent = by_id[parent.span_id].parent
        attributes = span.attributes or {}
        detail = ", ".join(
            f"{key}={attributes[key]!s}"
            for key in ("gen_ai.request.model", "gen_ai.tool.name", "gen_ai.usage.input_tokens")
            if key in attributes
        )
        typer.echo(f"  {'  ' * depth}{span.name}  {detail}".rstrip())
    trace_ids = {span.context.trace_id for span in spans if span.context is not None}
    if not spans:
        raise fail(CommandFailed("no span was exported"))
    if len(trace_ids) != 1:
        raise fail(CommandFailed(f"the run's spans span {len(trace_ids)} traces, expected 1"))
    typer.echo(f"  one trace: {next(iter(trace_ids)):032x}")
