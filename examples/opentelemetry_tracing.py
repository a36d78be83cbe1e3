"""OpenTelemetry tracing: one trace per run, spans for model calls and tools.

Needs gluellm-plugins-telemetry. Spans go to an in-memory exporter here; to send them
to a collector set GLUELLM_ENABLE_TRACING=true and OTEL_EXPORTER_OTLP_ENDPOINT instead
of passing span_exporter.
"""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")

os.environ["GLUELLM_ENABLE_TRACING"] = "true"


def get_weather(location: str) -> str:
    """Get the weather.

    Args:
        location: The city.
    """
    return f"sunny in {location}"


async def main() -> None:
    """Run the example."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from gluellm import complete
    from gluellm.telemetry import configure_tracing, shutdown_tracing, trace_llm_call

    exporter = InMemorySpanExporter()
    configure_tracing(span_exporter=exporter, mlflow_metrics=False)
    with trace_llm_call("my-feature", "n/a"):  # a span of your own around GlueLLM's
        await complete("Weather in Rome?", tools=[get_weather])
    shutdown_tracing()
    for span in exporter.get_finished_spans():
        print("span:", span.name)
    assert len(exporter.get_finished_spans()) >= 3
    print("TRACING OK")


asyncio.run(main())
