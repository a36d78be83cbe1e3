"""Cold-import cost: ``import gluellm`` (and the SDKs it must not pull in), fresh processes."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "elapsed = time.perf_counter() - started\n"
    "sdks = ('any_llm', 'openai', 'anthropic', 'httpx', 'httpx2', 'aiohttp')\n"
    "print(elapsed, [m for m in sdks if m in sys.modules])\n"
)


def _compiled_env(cache: str) -> dict[str, str]:
    """The environment of a child that reads (and first writes) bytecode in ``cache``.

    Installed packages run compiled (pip and uv compile ``.pyc`` files at install
    time), but a sandbox or CI job may set ``PYTHONDONTWRITEBYTECODE=1``, and then every
    run would compile every module from source again. A private ``PYTHONPYCACHEPREFIX``
    keeps the checkout clean. ``GLUELLM_*`` variables are dropped so that every
    installed plugin loads.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GLUELLM_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def cold_import(module: str, runs: int) -> dict[str, object]:
    """Median and spread of importing ``module`` in ``runs`` fresh interpreters.

    Measured with compiled bytecode (see `_compiled_env`); one untimed run compiles it.
    """
    times: list[float] = []
    loaded: list[str] = []
    cache = tempfile.mkdtemp(prefix="gluellm-import-pyc-")
    env = _compiled_env(cache)
    command = [sys.executable, "-c", PROBE.format(module=module)]
    try:
        subprocess.run(command, capture_output=True, check=True, env=env)  # fills the cache
        for _ in range(runs):
            out = subprocess.run(
                command, capture_output=True, text=True, check=True, env=env
            ).stdout
            elapsed, _, modules = out.partition(" ")
            times.append(float(elapsed))
            loaded = json.loads(modules.replace("'", '"'))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "module": module,
        "median_ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "max_ms": max(times) * 1000,
        "sdks_loaded": loaded,
    }


def cli_help(runs: int) -> dict[str, float]:
    """Median wall time of ``gluellm --help`` (every installed plugin loaded), fresh processes.

    Measured with compiled bytecode, as an installed package runs (see
    `_compiled_env`; compiling from source makes ``--help`` about 1.7 times as long):
    one untimed run fills the cache, the timed runs read it.
    """
    cache = tempfile.mkdtemp(prefix="gluellm-help-pyc-")
    env = _compiled_env(cache)
    command = [sys.executable, "-m", "gluellm.cli", "--help"]
    times: list[float] = []
    try:
        subprocess.run(command, capture_output=True, check=True, env=env)  # fills the cache
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000}
