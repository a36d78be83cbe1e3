"""GlueLLM's benchmarks against its peers, side by side in one run (``make bench``).

Every figure of one run comes from the same machine at the same time, the clients
interleaved round by round so that load from elsewhere hits them alike:

1. import: fresh interpreters importing ``gluellm``, ``gluellm.api`` and the peers'
   packages; ``gluellm --help`` with every plugin installed.
2. cold start: a fresh process's time to its first answer, and its peak RSS after a
   few hundred calls (``bench_cold.py``).
3. per-call cost, zero latency: wall time and client CPU per sequential call.
4. throughput at c=64 and c=256 with 50 ms server latency: requests/s and client CPU
   per request.
5. streaming: time to the first token.

Clients: a bare aiohttp session (the floor), the openai SDK on httpx (its default) and
on aiohttp, a reused any-llm instance, and GlueLLM's ``complete()`` on the any-llm
transport and on the lean openai-http transport, each with only its transport plugin
and with every installed plugin loaded (``+plugins``; the rate limit raised so it never
waits). The fake server runs in a process of its own.

    .venv/bin/python benchmarks/run.py [--quick] [--json FILE] [--markdown FILE] [--skip-others]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cold import bench_cold  # noqa: E402
from bench_import import cli_help, cold_import  # noqa: E402
from fake_server_process import fake_server  # noqa: E402

# (row label, bench_client spec, bench_cold name, module whose import is measured)
ROWS: list[tuple[str, str, str | None, str]] = [
    ("aiohttp, bare (floor)", "aiohttp/bare", "aiohttp (bare)", "aiohttp"),
    ("openai SDK, httpx", "openai/httpx", "openai/httpx", "openai"),
    ("openai SDK, aiohttp", "openai/aiohttp", "openai/aiohttp", "openai"),
    ("any-llm, reused, aiohttp", "anyllm/aiohttp", "anyllm", "any_llm"),
    ("GlueLLM, any-llm transport", "gluellm/aiohttp", None, "gluellm.api"),
    (
        "GlueLLM, any-llm transport +plugins",
        "gluellm+plugins/aiohttp",
        "gluellm any-llm +plugins",
        "gluellm.api",
    ),
    ("GlueLLM, lean transport", "gluellm/lean", "gluellm lean only", "gluellm.api"),
    (
        "GlueLLM, lean transport +plugins",
        "gluellm+plugins/lean",
        "gluellm lean +plugins",
        "gluellm.api",
    ),
]
TRANSPORTS = ["lean/direct", "transport/aiohttp"]
"""The transports called directly: what GlueLLM's own layers are measured against."""


def run_clients(url: str, clients: list[str], **options: Any) -> dict[str, dict[str, Any]]:
    command = [sys.executable, str(HERE / "bench_client.py"), "--url", url]
    command += ["--clients", ",".join(clients)]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode:
        raise RuntimeError(f"bench_client failed:\n{finished.stderr[-3000:]}")
    result: dict[str, dict[str, Any]] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 74 - len(title)), flush=True)


def bench_imports(runs: int) -> dict[str, Any]:
    section(f"cold import ({runs} fresh interpreters each)")
    results: dict[str, Any] = {}
    for module in ("gluellm", "gluellm.api", "aiohttp", "openai", "any_llm"):
        r = results[module] = cold_import(module, runs)
        print(
            f"  import {module:<12} median {r['median_ms']:7.1f} ms  "
            f"(min {r['min_ms']:.1f}, max {r['max_ms']:.1f})  SDKs loaded: {r['sdks_loaded']}"
        )
    help_run = results["gluellm --help"] = cli_help(runs)
    print(
        f"  gluellm --help      median {help_run['median_ms']:7.1f} ms  (max "
        f"{help_run['max_ms']:.1f}; interpreter start and every plugin's entry point included)"
    )
    return results


def bench_cold_start(runs: int, calls: int) -> dict[str, Any]:
    section(f"cold start to first answer, peak RSS ({runs} fresh processes each)")
    with fake_server(latency=0.0) as url:
        results = bench_cold(url, runs, calls)
    print(f"  {'client':<28}{'first answer ms':>16}{'of it import ms':>17}{'peak RSS MB':>13}")
    for name, r in results.items():
        print(
            f"  {name:<28}{r['wall_first_s'] * 1000:>16.0f}{r['import_s'] * 1000:>17.0f}"
            f"{r['rss_mb']:>13.0f}"
        )
    return results


def bench_overhead(rounds: int, calls: int) -> dict[str, Any]:
    section(f"per call, zero latency ({rounds} rounds x {calls} calls per client)")
    clients = [spec for _, spec, _, _ in ROWS] + TRANSPORTS
    with fake_server(latency=0.0) as url:
        results = run_clients(url, clients, mode="overhead", rounds=rounds, calls=calls)
    print(f"  {'client':<26}{'median us':>11}{'p99 us':>10}{'CPU us/call':>13}")
    for name, r in results.items():
        print(
            f"  {name:<26}{r['median_us']:>11.0f}{r['p99_us']:>10.0f}{r['cpu_us_per_call']:>13.0f}"
        )
    own: dict[str, float] = {}
    for label, glue, transport in [
        ("lean", "gluellm/lean", "lean/direct"),
        ("lean +plugins", "gluellm+plugins/lean", "lean/direct"),
        ("any-llm", "gluellm/aiohttp", "transport/aiohttp"),
        ("any-llm +plugins", "gluellm+plugins/aiohttp", "transport/aiohttp"),
    ]:
        cpu = results[glue]["cpu_us_per_call"] - results[transport]["cpu_us_per_call"]
        own[label] = cpu
        print(f"  GlueLLM's own CPU per call over the {label} transport: {cpu:+.0f} us")
    results["own_cpu_us"] = own
    return results


def bench_throughput(rounds: int, levels: list[tuple[int, int]]) -> dict[str, Any]:
    section(f"throughput, 50 ms server latency (best of {rounds} interleaved rounds)")
    clients = [spec for _, spec, _, _ in ROWS]
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
    header = "".join(f"{'c=' + c:>18}" for c in results)
    print(f"  {'req/s (CPU ms/req)':<26}{header}")
    for name in clients:
        cells = "".join(
            f"{r[name]['rps']:>10.0f} ({r[name]['cpu_ms_per_request']:.2f})"
            for r in results.values()
        )
        print(f"  {name:<26}{cells}")
    return results


def bench_stream(rounds: int, calls: int) -> dict[str, Any]:
    section(f"streaming: time to first token ({rounds} rounds x {calls} streams per client)")
    clients = [spec for _, spec, _, _ in ROWS]
    with fake_server(latency=0.0) as url:
        results = run_clients(url, clients, mode="stream", rounds=rounds, calls=calls, warmup=10)
    for name, r in results.items():
        print(f"  {name:<26} median {r['ttft_median_us']:7.0f} us   p90 {r['ttft_p90_us']:7.0f} us")
    return results


def table(results: dict[str, Any]) -> str:
    """One Markdown row per client, every figure of this run."""
    levels = list(results["throughput"])
    head = [
        "client",
        "import ms",
        "first answer ms",
        "peak RSS MB",
        "per call us (CPU us)",
        *(f"c={c} req/s (CPU ms/req)" for c in levels),
        "TTFT us",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, spec, cold_name, module in ROWS:
        cold = results["cold"].get(cold_name) if cold_name else None
        over = results["overhead"][spec]
        cells = [
            label,
            f"{results['import'][module]['median_ms']:.0f}",
            f"{cold['wall_first_s'] * 1000:.0f}" if cold else "",
            f"{cold['rss_mb']:.0f}" if cold else "",
            f"{over['median_us']:.0f} ({over['cpu_us_per_call']:.0f})",
            *(
                f"{results['throughput'][c][spec]['rps']:.0f} "
                f"({results['throughput'][c][spec]['cpu_ms_per_request']:.2f})"
                for c in levels
            ),
            f"{results['stream'][spec]['ttft_median_us']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_others() -> None:
    mine = {"run.py", "bench_client.py", "bench_import.py", "bench_cold.py"}
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name in mine:
            continue
        section(f"{script.name} (other benchmarks)")
        finished = subprocess.run([sys.executable, str(script)], text=True, check=False)
        if finished.returncode:
            print(f"  {script.name} failed with exit code {finished.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (rough numbers)")
    parser.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    parser.add_argument("--markdown", metavar="FILE", help="also write the summary table")
    parser.add_argument(
        "--skip-others", action="store_true", help="skip the other bench_*.py scripts here"
    )
    args = parser.parse_args()
    quick = args.quick
    load = os.getloadavg()
    print(f"GlueLLM benchmarks; load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    results = {
        "import": bench_imports(3 if quick else 7),
        "cold": bench_cold_start(2 if quick else 5, 200),
        "overhead": bench_overhead(4 if quick else 12, 100 if quick else 200),
        "throughput": bench_throughput(
            2 if quick else 3, [(64, 640), (256, 1280)] if quick else [(64, 1920), (256, 2560)]
        ),
        "stream": bench_stream(3 if quick else 8, 20 if quick else 40),
    }
    load = os.getloadavg()
    results["load_after"] = list(load)
    section("summary (medians; CPU is the client process's)")
    summary = table(results)
    print(summary)
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    own = results["overhead"]["own_cpu_us"]
    print(
        "GlueLLM's own CPU per call: "
        + ", ".join(f"{label} {value:.0f} us" for label, value in own.items())
    )
    cpu256 = results["throughput"]["256"]
    print(
        "c=256 CPU ms/request: lean transport via GlueLLM "
        f"{cpu256['gluellm/lean']['cpu_ms_per_request']:.2f}, bare aiohttp "
        f"{cpu256['aiohttp/bare']['cpu_ms_per_request']:.2f}, openai SDK on aiohttp "
        f"{cpu256['openai/aiohttp']['cpu_ms_per_request']:.2f}, on httpx "
        f"{cpu256['openai/httpx']['cpu_ms_per_request']:.2f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.markdown:
        Path(args.markdown).write_text(summary + "\n")
    if not args.skip_others:
        run_others()


if __name__ == "__main__":
    main()
