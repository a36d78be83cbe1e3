"""Per-call cost of the telemetry plugin: tracing on, tracing off, plugin not installed.

Three GlueLLM runtimes in one process call the fake provider server (its own process,
zero latency), interleaved round by round so machine load hits them alike:

- ``no plugin``: the any-llm transport only;
- ``tracing off``: the telemetry plugin registered, ``GLUELLM_ENABLE_TRACING`` off
  (every hook returns after one flag check);
- ``tracing on``: spans for the run and the model call, GenAI metrics, through the
  SDK's batch span processor (the exporter discards, so only GlueLLM's and the SDK's
  in-process cost is measured, not a backend's).

    .venv/bin/python benchmarks/bench_telemetry.py [--rounds 12] [--calls 150]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_client import overhead  # noqa: E402
from fake_server_process import fake_server  # noqa: E402


class DiscardingExporter:
    """A span exporter that drops what it gets (the SDK still builds every span)."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


async def main(rounds: int, calls: int) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            del os.environ[name]
    os.environ["GLUELLM_DISABLE_LOGGING"] = "true"  # measure tracing, not the log file
    from gluellm.api import complete
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime
    from gluellm_plugins_anyllm import plugin as anyllm_plugin
    from gluellm_plugins_telemetry import plugin as telemetry_plugin
    from gluellm_plugins_telemetry.api import configure_tracing, flush_tracing

    exporter = DiscardingExporter()
    configure_tracing(
        Settings(_env_file=None, enable_tracing=True),  # type: ignore[call-arg]
        span_exporter=exporter,  # type: ignore[arg-type]
        mlflow_metrics=False,
        force=True,
    )

    def runtime(telemetry: bool, tracing: bool) -> Runtime:
        manager = create_plugin_manager(load_entrypoints=False)
        manager.register(anyllm_plugin, name="anyllm")
        if telemetry:
            manager.register(telemetry_plugin, name="telemetry")
        return Runtime(manager, settings=Settings(_env_file=None, enable_tracing=tracing))  # type: ignore[call-arg]

    runtimes = {
        "no plugin": runtime(False, False),
        "tracing off": runtime(True, False),
        "tracing on": runtime(True, True),
    }

    def sender(rt: Runtime) -> Any:
        async def send() -> Any:
            with use_runtime(rt):
                return await complete("hello", model="openai:gpt-4o-mini")

        return send

    results = await overhead({n: sender(rt) for n, rt in runtimes.items()}, rounds, calls, 50)
    flush_tracing()
    for rt in runtimes.values():
        with use_runtime(rt):
            await rt.aclose()

    print(
        f"  {'runtime':<14}{'median us':>11}{'p99 us':>10}{'CPU us/call':>13}{'vs no plugin':>15}"
    )
    base = results["no plugin"]["round_medians_us"]
    for name, r in results.items():
        paired = statistics.median(a - b for a, b in zip(r["round_medians_us"], base, strict=True))
        print(
            f"  {name:<14}{r['median_us']:>11.0f}{r['p99_us']:>10.0f}"
            f"{r['cpu_us_per_call']:>13.0f}{paired:>+14.0f}us"
        )
    total = sum(r["calls"] for r in results.values()) // len(results)
    print(
        f"  spans exported with tracing on: {exporter.exported} for {total} calls "
        "(a run span and a model-call span each)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=150)
    args = parser.parse_args()
    with fake_server(latency=0.0) as url:
        os.environ["OPENAI_BASE_URL"] = f"{url}/v1"
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        asyncio.run(main(args.rounds, args.calls))
