"""Cold start to the first answer, and peak memory, per client, in fresh processes.

Each sample is a new interpreter that imports its client, makes one call against the
fake server and prints when the answer arrived (bytecode compiled beforehand, as pip
does at install time); the parent measures from spawning the
process (interpreter start included) to that line. The process then makes
``--calls`` more calls and reports its peak RSS. Clients alternate run by run, so load
from elsewhere on the machine hits them alike.

    .venv/bin/python benchmarks/bench_cold.py --url http://127.0.0.1:PORT [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

COMMON = """
import asyncio, json, resource, sys, time
started = time.perf_counter()
{imports}
imported = time.perf_counter() - started
SYSTEM = "You are a helpful assistant."
MESSAGES = [{{"role": "system", "content": SYSTEM}}, {{"role": "user", "content": "hello"}}]

async def main():
{setup}
    await send()
    first = time.perf_counter() - started
    print(json.dumps({{"import_s": imported, "first_s": first}}), flush=True)
    for _ in range({calls}):
        await send()
{close}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({{"rss_mb": rss}}), flush=True)

asyncio.run(main())
"""

OPENAI_SETUP = """
    client = openai.AsyncOpenAI(max_retries=0{extra})
    async def send():
        return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
"""

CLIENTS: dict[str, dict[str, Any]] = {
    "aiohttp (bare)": {
        "imports": "import aiohttp, os",
        "setup": """
    session = aiohttp.ClientSession()
    url = os.environ["OPENAI_BASE_URL"] + "/chat/completions"
    body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}).encode()
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    async def send():
        async with session.post(url, data=body, headers=headers) as response:
            return json.loads(await response.read())
""",
        "close": "    await session.close()",
    },
    "openai/httpx": {
        "imports": "import openai",
        "setup": OPENAI_SETUP.format(extra=""),
        "close": "    await client.close()",
    },
    "openai/aiohttp": {
        "imports": "import openai",
        "setup": OPENAI_SETUP.format(extra=", http_client=openai.DefaultAioHttpClient()"),
        "close": "    await client.close()",
    },
    "anyllm": {
        "imports": "from any_llm import AnyLLM",
        "setup": """
    llm = AnyLLM.create("openai", max_retries=0, unified_exceptions=True)
    async def send():
        return await llm.acompletion(model="gpt-4o-mini", messages=list(MESSAGES))
""",
        "close": "    await llm.client.close()",
    },
}

GLUELLM_SETUP = """
    async def send():
        return await complete("hello", model="{model}", system_prompt=SYSTEM)
"""
GLUELLM_CLOSE = "    await aclose_default_runtime()"
GLUELLM_IMPORTS = (
    "from gluellm.api import complete\nfrom gluellm.runtime import aclose_default_runtime"
)

# name -> (model, extra environment)
GLUELLM_VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "gluellm any-llm +plugins": ("openai:gpt-4o-mini", {}),
    "gluellm lean +plugins": ("openai:gpt-4o-mini", {"GLUELLM_OPENAI_HTTP_PROVIDERS": "openai"}),
    "gluellm lean only": ("openai-http:gpt-4o-mini", {"GLUELLM_LOAD_PLUGINS": "openai-http"}),
}


def _script(name: str, calls: int) -> tuple[str, dict[str, str]]:
    if name in GLUELLM_VARIANTS:
        model, env = GLUELLM_VARIANTS[name]
        spec = {
            "imports": GLUELLM_IMPORTS,
            "setup": GLUELLM_SETUP.format(model=model),
            "close": GLUELLM_CLOSE,
        }
    else:
        spec, env = CLIENTS[name], {}
    return COMMON.format(calls=calls, **spec), env


def _environment(url: str, extra: dict[str, str], bytecode: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GLUELLM_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        # Measured as installed: pip compiles every package's bytecode at install time,
        # so no client should pay for compiling sources in a cold start (a venv built by
        # uv, or a sandbox that sets PYTHONDONTWRITEBYTECODE, would charge them all).
        PYTHONPYCACHEPREFIX=bytecode,
        OPENAI_BASE_URL=f"{url}/v1",
        OPENAI_API_KEY="sk-bench",
        GLUELLM_DISABLE_LOGGING="true",
        # The default plugins stay loaded; only the limit is raised so the extra calls
        # that measure memory never wait for permits.
        GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE="100000000",
        GLUELLM_RATE_LIMIT_BURST="100000000",
    )
    env.update(extra)
    return env


def _one_run(name: str, url: str, calls: int, cwd: str) -> dict[str, float]:
    script, extra = _script(name, calls)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(url, extra, os.path.join(cwd, "bytecode")),
        cwd=cwd,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    wall = time.perf_counter() - started
    rest, errors = process.communicate(timeout=300)
    if process.returncode or not first_line:
        raise RuntimeError(f"{name} failed:\n{errors}")
    result: dict[str, float] = {**json.loads(first_line), **json.loads(rest.splitlines()[-1])}
    result["wall_first_s"] = wall
    return result


def bench_cold(url: str, runs: int, calls: int) -> dict[str, dict[str, float]]:
    """Median of ``runs`` fresh processes per client, clients alternating."""
    names = [*CLIENTS, *GLUELLM_VARIANTS]
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as cwd:
        for name in names:  # compiles each client's bytecode once; not measured
            _one_run(name, url, 1, cwd)
        for number in range(runs):
            for name in names if number % 2 == 0 else reversed(names):
                samples[name].append(_one_run(name, url, calls, cwd))
    return {
        name: {
            key: statistics.median(sample[key] for sample in values)
            for key in ("wall_first_s", "import_s", "first_s", "rss_mb")
        }
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(bench_cold(args.url, args.runs, args.calls)))


if __name__ == "__main__":
    main()
