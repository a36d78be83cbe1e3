"""Batch benchmark: 100,000 requests at concurrency 256 against the fake server (50 ms).

Measures, each client in a process of its own (the fake server in another):

1. GlueLLM's JSONL batch (``run_jsonl``: streaming runner, bounded window, results
   appended to a file) at 10,000 and 100,000 requests: throughput against the ideal
   (concurrency / latency) and peak RSS, which should stay flat from 10k to 100k.
2. The same requests sent with raw ``openai.AsyncOpenAI`` and an ``asyncio.Semaphore``
   (one task per request, as such scripts are usually written).
3. Resume: a run killed (SIGKILL) mid-way, then rerun on the same output file; every
   ID must be answered exactly once.
4. ``--pool-only``: three keys at 60 rpm through the rate-limit plugin's pool (about
   70 s): requests spread within 10% of even, never over 60 per key in any 60 s.

    .venv/bin/python benchmarks/bench_batch.py [--requests 100000] [--concurrency 256]
        [--latency 0.05] [--json results.json]
    .venv/bin/python benchmarks/bench_batch.py --pool-only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL = "openai:gpt-4o-mini"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_input(path: Path, n: int) -> None:
    with path.open("w") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"q{i}", "user_message": f"Question number {i}"}) + "\n")


# -- children ----------------------------------------------------------------------------


async def child_gluellm(url: str, src: str, dst: str, concurrency: int) -> dict[str, Any]:
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime
    from gluellm_plugins_anyllm import plugin as anyllm_plugin
    from gluellm_plugins_batch import BatchConfig
    from gluellm_plugins_batch.files import run_jsonl

    os.environ["OPENAI_BASE_URL"] = f"{url}/v1"
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    runtime = Runtime(manager, settings=Settings(_env_file=None, rate_limit_enabled=False))  # type: ignore[call-arg]
    with use_runtime(runtime):
        # Warm up (import any-llm, build the client) outside the timed part.
        from gluellm.api import complete

        await complete("warm up", model=MODEL)
        started = time.perf_counter()
        totals = await run_jsonl(src, dst, BatchConfig(max_concurrent=concurrency), model=MODEL)
        elapsed = time.perf_counter() - started
    await runtime.aclose()
    return {"done": totals.done, "failed": totals.failed, "elapsed_s": elapsed}


async def child_raw(url: str, n: int, concurrency: int) -> dict[str, Any]:
    import openai

    from gluellm_plugins_anyllm.http_stack import DEFAULT_STACK

    extra: dict[str, Any] = {}
    if DEFAULT_STACK == "aiohttp":
        extra["http_client"] = openai.DefaultAioHttpClient()
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-bench", max_retries=0, **extra)
    semaphore = asyncio.Semaphore(concurrency)
    failed = 0

    async def one(i: int) -> None:
        nonlocal failed
        async with semaphore:
            try:
                await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[
                        {"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": f"Question number {i}"},
                    ],
                )
            except openai.OpenAIError:
                failed += 1

    await one(-1)  # warm up
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await client.close()
    return {"done": n, "failed": failed, "elapsed_s": elapsed, "stack": DEFAULT_STACK}


def child_main(argv: list[str]) -> None:
    kind, url = argv[0], argv[1]
    if kind == "gluellm":
        result = asyncio.run(child_gluellm(url, argv[2], argv[3], int(argv[4])))
    else:
        result = asyncio.run(child_raw(url, int(argv[2]), int(argv[3])))
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result), flush=True)


# -- orchestration -----------------------------------------------------------------------


def run_child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GLUELLM_LOG_LEVEL": "WARNING"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def resume_check(url: str, workdir: Path, n: int, concurrency: int) -> dict[str, Any]:
    """Kill a run mid-way, rerun it, and check every ID is answered exactly once."""
    src, dst = workdir / "resume_in.jsonl", workdir / "resume_out.jsonl"
    write_input(src, n)
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", "gluellm", url, str(src), str(dst), str(concurrency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GLUELLM_LOG_LEVEL": "WARNING"},
    )
    # Kill it once about a third of the results are on disk.
    while process.poll() is None:
        if dst.exists() and dst.stat().st_size > 0 and dst.read_bytes().count(b"\n") >= n // 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = dst.read_bytes().count(b"\n") if dst.exists() else 0
    second = run_child("gluellm", url, str(src), str(dst), str(concurrency))
    records = _lines(dst)
    ids = Counter(r["id"] for r in records)
    expected = {f"q{i}" for i in range(n)}
    return {
        "requests": n,
        "lines_before_kill": before,
        "answered_by_rerun": second["done"],
        "every_id_exactly_once": set(ids) == expected and all(c == 1 for c in ids.values()),
        "all_successful": all(r["success"] for r in records),
    }


async def pool_window_check(n: int = 240) -> dict[str, Any]:
    """Three keys at 60 rpm (burst 10): even spread, never over 60 per key in any 60 s.

    Runs ``n`` requests through the rate-limit plugin's pool in this process (about
    ``(n - 30) / 3`` seconds), recording at the transport which key each request was
    sent with and when: what the provider would see.
    """
    import uuid

    from pydantic import SecretStr

    from gluellm.config import Settings
    from gluellm.models.batch import APIKeyConfig
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, override_transport, use_runtime
    from gluellm.testing import FunctionTransport
    from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
    from gluellm_plugins_batch import BatchConfig, BatchRequest, batch_complete

    sent: list[tuple[float, str]] = []

    def answer(call: Any) -> str:
        sent.append((time.monotonic(), call.api_key))
        return "ok"

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(aiolimiter_plugin, name="aiolimiter")
    runtime = Runtime(manager, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    tag = uuid.uuid4().hex[:8]
    keys = [
        APIKeyConfig(key=SecretStr(f"sk-{tag}-{i}"), provider="openai", requests_per_minute=60)
        for i in range(3)
    ]
    requests = [BatchRequest(user_message=f"q{i}", model=MODEL) for i in range(n)]
    started = time.perf_counter()
    with use_runtime(runtime), override_transport(FunctionTransport(answer)):
        response = await batch_complete(
            requests, BatchConfig(max_concurrent=30, api_keys=keys), runtime=runtime
        )
    elapsed = time.perf_counter() - started
    by_key: dict[str, list[float]] = {}
    for at, key in sent:
        by_key.setdefault(key, []).append(at)
    worst = 0
    for times in by_key.values():
        times.sort()
        start = 0
        for end, at in enumerate(times):
            while at - times[start] >= 60.0:
                start += 1
            worst = max(worst, end - start + 1)
    counts = sorted(len(t) for t in by_key.values())
    even = n / 3
    return {
        "requests": n,
        "successful": response.successful_requests,
        "elapsed_s": elapsed,
        "per_key": counts,
        "within_10pct_of_even": all(abs(c - even) <= 0.1 * even for c in counts),
        "max_per_key_in_any_60s": worst,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--resume-requests", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--pool-only", action="store_true", help="only the 3-keys-at-60-rpm window check"
    )
    args = parser.parse_args()
    if args.pool_only:
        print(json.dumps(asyncio.run(pool_window_check()), indent=2))
        return

    from fake_server_process import fake_server

    ideal = args.concurrency / args.latency
    report: dict[str, Any] = {
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "ideal_rps": ideal,
    }
    with tempfile.TemporaryDirectory() as tmp, fake_server(latency=args.latency) as url:
        workdir = Path(tmp)
        for label, n in (("small", args.small), ("large", args.requests)):
            src, dst = workdir / f"{label}_in.jsonl", workdir / f"{label}_out.jsonl"
            write_input(src, n)
            result = run_child("gluellm", url, str(src), str(dst), str(args.concurrency))
            result["requests"] = n
            result["rps"] = n / result["elapsed_s"]
            result["of_ideal"] = result["rps"] / ideal
            report[f"gluellm_{label}"] = result
            print(f"gluellm {n}: {json.dumps(result)}", flush=True)
        raw = run_child("raw", url, str(args.requests), str(args.concurrency))
        raw["rps"] = args.requests / raw["elapsed_s"]
        raw["of_ideal"] = raw["rps"] / ideal
        report["raw_openai_semaphore"] = raw
        print(f"raw openai {args.requests}: {json.dumps(raw)}", flush=True)
        report["gluellm_vs_raw"] = report["gluellm_large"]["rps"] / raw["rps"]
        report["rss_large_over_small"] = (
            report["gluellm_large"]["peak_rss_mb"] / report["gluellm_small"]["peak_rss_mb"]
        )
        report["resume"] = resume_check(url, workdir, args.resume_requests, args.concurrency)
        print(f"resume: {json.dumps(report['resume'])}", flush=True)
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
