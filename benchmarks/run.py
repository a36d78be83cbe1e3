"""GlueLLM's benchmarks, side by side in one run (``make bench``); not part of the tests.

1. Cold ``import gluellm`` (fresh interpreters), next to ``import openai`` / ``any_llm``.
2. ``complete()`` per-call overhead against the fake server with zero latency: GlueLLM
   versus a reused any-llm instance on the same HTTP stack, and raw openai.AsyncOpenAI.
3. Throughput at concurrency 1/64/256 with 50 ms injected latency, same clients.

The fake server runs in its own process, the clients in another, so they never share
a GIL. Clients are interleaved round by round, so load from elsewhere on the machine
hits them alike. Budgets (DESIGN.md §7, issue 3): overhead <= 300 us median;
throughput at c=256 >= 95% of the raw openai SDK's.

    .venv/bin/python benchmarks/run.py [--quick] [--json results.json] [--skip-others]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import cli_help, cold_import  # noqa: E402
from fake_server_process import fake_server  # noqa: E402

from gluellm_plugins_anyllm.http_stack import DEFAULT_STACK  # noqa: E402

OVERHEAD_BUDGET_US = 300.0
THROUGHPUT_BUDGET = 0.95
OTHER_STACK = "httpx" if DEFAULT_STACK == "aiohttp" else "aiohttp"


def run_clients(url: str, clients: list[str], **options: Any) -> dict[str, dict[str, Any]]:
    command = [
        sys.executable,
        str(HERE / "bench_client.py"),
        "--url",
        url,
        "--clients",
        ",".join(clients),
    ]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    return result


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 74 - len(title)))


def bench_imports(runs: int) -> dict[str, Any]:
    section(f"cold import ({runs} fresh interpreters each)")
    results = {}
    for module in ("gluellm", "openai", "any_llm"):
        r = results[module] = cold_import(module, runs)
        print(
            f"  import {module:<10} median {r['median_ms']:7.1f} ms  "
            f"(min {r['min_ms']:.1f}, max {r['max_ms']:.1f})  SDKs loaded: {r['sdks_loaded']}"
        )
    ratio = results["gluellm"]["median_ms"] / results["openai"]["median_ms"]
    clean = not results["gluellm"]["sdks_loaded"]
    print(
        f"  gluellm / openai import time: {ratio:.2f}x; "
        f"provider SDKs imported by `import gluellm`: {'none' if clean else 'SOME (budget broken)'}"
    )
    help_run = results["gluellm --help"] = cli_help(runs)
    print(
        f"  gluellm --help   median {help_run['median_ms']:7.1f} ms  "
        f"(max {help_run['max_ms']:.1f}; interpreter start and every plugin's entry point included)"
    )
    return results


def paired(a: list[float], b: list[float]) -> float:
    return statistics.median(x - y for x, y in zip(a, b, strict=True))


def bench_overhead(rounds: int, calls: int) -> dict[str, Any]:
    section(f"complete() overhead, zero latency ({rounds} rounds x {calls} calls per client)")
    clients = [
        "openai/httpx",
        "openai/aiohttp",
        f"anyllm/{DEFAULT_STACK}",
        f"transport/{DEFAULT_STACK}",
        f"gluellm/{DEFAULT_STACK}",
        f"anyllm/{OTHER_STACK}",
        f"gluellm/{OTHER_STACK}",
    ]
    with fake_server(latency=0.0) as url:
        results = run_clients(url, clients, mode="overhead", rounds=rounds, calls=calls)
    print(f"  {'client/stack':<20}{'median us':>11}{'p99 us':>10}{'CPU us/call':>13}")
    for name, r in results.items():
        print(
            f"  {name:<20}{r['median_us']:>11.0f}{r['p99_us']:>10.0f}{r['cpu_us_per_call']:>13.0f}"
        )
    summary = {}
    for stack in (DEFAULT_STACK, OTHER_STACK):
        glue, base = results[f"gluellm/{stack}"], results[f"anyllm/{stack}"]
        overhead = paired(glue["round_medians_us"], base["round_medians_us"])
        p99 = glue["p99_us"] - base["p99_us"]
        summary[stack] = {"overhead_median_us": overhead, "overhead_p99_us": p99}
        verdict = "within" if overhead <= OVERHEAD_BUDGET_US else "OVER"
        print(
            f"  GlueLLM overhead over reused any-llm ({stack}): median {overhead:+.0f} us "
            f"(paired per round), p99 {p99:+.0f} us -> {verdict} the "
            f"{OVERHEAD_BUDGET_US:.0f} us budget"
        )
    transport = paired(
        results[f"transport/{DEFAULT_STACK}"]["round_medians_us"],
        results[f"anyllm/{DEFAULT_STACK}"]["round_medians_us"],
    )
    print(
        f"  of which the any-llm transport itself: {transport:+.0f} us; "
        "the rest is core (pipeline, tool loop, result)"
    )
    results["summary"] = summary
    return results


def bench_throughput(rounds: int, levels: list[tuple[int, int]]) -> dict[str, Any]:
    section(f"throughput, 50 ms server latency (best of {rounds} interleaved rounds)")
    clients = [
        "openai/httpx",
        "openai/aiohttp",
        "anyllm/httpx",
        "anyllm/aiohttp",
        "gluellm/httpx",
        "gluellm/aiohttp",
    ]
    results: dict[str, Any] = {}
    with fake_server(latency=0.05) as url:
        for concurrency, requests in levels:
            results[str(concurrency)] = run_clients(
                url,
                clients,
                mode="throughput",
                rounds=rounds,
                concurrency=concurrency,
                requests=requests,
            )
    header = "".join(f"{'c=' + c:>16}" for c in results)
    print(f"  {'req/s (CPU ms/req)':<20}{header}")
    for name in clients:
        cells = "".join(
            f"{r[name]['rps']:>9.0f} ({r[name]['cpu_ms_per_request']:.2f})"
            for r in results.values()
        )
        print(f"  {name:<20}{cells}")
    print("  ratios:")
    glue = f"gluellm/{DEFAULT_STACK}"
    for label, a, b in [
        (
            f"GlueLLM (default, {DEFAULT_STACK}) / raw openai SDK (default httpx)",
            glue,
            "openai/httpx",
        ),
        (f"GlueLLM / raw openai SDK, both {DEFAULT_STACK}", glue, f"openai/{DEFAULT_STACK}"),
        (f"GlueLLM / reused any-llm, both {DEFAULT_STACK}", glue, f"anyllm/{DEFAULT_STACK}"),
        ("GlueLLM aiohttp / GlueLLM httpx", "gluellm/aiohttp", "gluellm/httpx"),
        ("raw openai aiohttp / raw openai httpx", "openai/aiohttp", "openai/httpx"),
    ]:
        cells = "".join(f"{r[a]['rps'] / r[b]['rps']:>15.2f}x" for r in results.values())
        print(f"    {label:<58}{cells}")
    top = results[str(levels[-1][0])]
    ratio = top[glue]["rps"] / top["openai/httpx"]["rps"]
    verdict = "meets" if ratio >= THROUGHPUT_BUDGET else "MISSES"
    print(
        f"  c={levels[-1][0]}: GlueLLM reaches {ratio:.0%} of raw openai SDK -> {verdict} "
        f"the {THROUGHPUT_BUDGET:.0%} budget"
    )
    return results


def run_others() -> None:
    mine = {"run.py", "bench_client.py", "bench_import.py", "fake_server_process.py"}
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name in mine:
            continue
        section(f"{script.name} (other plugin benchmarks)")
        finished = subprocess.run([sys.executable, str(script)], text=True, check=False)
        if finished.returncode:
            print(f"  {script.name} failed with exit code {finished.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (rough numbers)")
    parser.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    parser.add_argument(
        "--skip-others",
        action="store_true",
        help="skip the other bench_*.py scripts in this directory",
    )
    args = parser.parse_args()
    quick = args.quick
    print(f"GlueLLM benchmarks; any-llm transport default HTTP stack: {DEFAULT_STACK}")
    results = {
        "import": bench_imports(3 if quick else 7),
        "overhead": bench_overhead(6 if quick else 16, 150 if quick else 200),
        "throughput": bench_throughput(
            2 if quick else 3,
            [(1, 40), (64, 640), (256, 1280)] if quick else [(1, 100), (64, 1920), (256, 2560)],
        ),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not args.skip_others:
        run_others()


if __name__ == "__main__":
    main()
