"""Cold-import cost: ``import gluellm`` (and the SDKs it must not pull in), fresh processes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

PROBE = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "elapsed = time.perf_counter() - started\n"
    "sdks = ('any_llm', 'openai', 'anthropic', 'httpx', 'httpx2', 'aiohttp')\n"
    "print(elapsed, [m for m in sdks if m in sys.modules])\n"
)


def cold_import(module: str, runs: int) -> dict[str, object]:
    """Median and spread of importing ``module`` in ``runs`` fresh interpreters."""
    times: list[float] = []
    loaded: list[str] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUELLM_")}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        elapsed, _, modules = out.partition(" ")
        times.append(float(elapsed))
        loaded = json.loads(modules.replace("'", '"'))
    return {
        "module": module,
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "max_ms": max(times) * 1000,
        "sdks_loaded": loaded,
    }


def cli_help(runs: int) -> dict[str, float]:
    """Median wall time of ``gluellm --help`` (every installed plugin loaded), fresh processes."""
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gluellm.cli", "--help"], capture_output=True, check=True
        )
        times.append(time.perf_counter() - started)
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000}
