"""Rate-limit accuracy: drive the limiter flat out and count admissions in every 60 s window.

Each run sends ``complete()`` calls from many concurrent workers through the real call
pipeline (aiolimiter plugin, plus the Redis plugin for ``--backend redis``) to a
transport that answers at once and records when each request reached it. It reports the
total admitted and the most requests in any 60-second window (every window that starts
at an admission, half-open ``[t, t + 60)``), which must not exceed ``--rpm``
(DESIGN.md §7, issue 9). ``--restart-redis`` stops the Redis server mid-run (data is
lost: no persistence), keeps it down for ``--down`` seconds, and starts it again; the
bound must still hold.

    .venv/bin/python benchmarks/bench_rate_limit.py                 # all three, in parallel
    .venv/bin/python benchmarks/bench_rate_limit.py --minutes 3 --rpm 60 --burst 10 \\
        --backend redis --restart-redis

``--backend all`` (the default, what ``make bench`` runs) runs memory, redis and redis
with a restart side by side as subprocesses. Redis runs start their own ``redis-server``
on a free loopback port unless ``--redis-url`` names one (which ``--restart-redis``
cannot restart). Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

WINDOW_S = 60.0


def max_in_window(times: list[float], window: float = WINDOW_S) -> tuple[int, float]:
    """The most of ``times`` (sorted) in any ``[t, t + window)``, and where that window starts."""
    best, start = 0, 0.0
    for i, t in enumerate(times):
        count = bisect.bisect_left(times, t + window, lo=i) - i
        if count > best:
            best, start = count, t
    return best, start


class RedisServer:
    """A throwaway redis-server on a loopback port, without persistence; restartable."""

    def __init__(self, port: int) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def drive(args: argparse.Namespace, redis_url: str, server: RedisServer | None) -> dict:
    """Run one backend flat out; return the admission times (s from start) and events."""
    from gluellm.api import complete
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, override_transport, use_runtime
    from gluellm.testing import FunctionTransport
    from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
    from gluellm_plugins_redis import plugin as redis_plugin

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(aiolimiter_plugin, name="aiolimiter")
    manager.register(redis_plugin, name="redis")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        rate_limit_backend=args.backend,
        rate_limit_redis_url=redis_url,
        rate_limit_requests_per_minute=args.rpm,
        rate_limit_burst=args.burst,
    )
    runtime = Runtime(manager, settings=settings)
    admitted: list[float] = []
    events: list[tuple[float, str]] = []

    def answer(call: Any) -> str:
        admitted.append(time.monotonic())
        return "ok"

    async def worker() -> None:
        while True:
            await complete("hi", model="openai:gpt-4o-mini")

    async def restart(started: float) -> None:
        assert server is not None
        await asyncio.sleep(args.restart_at)
        await asyncio.to_thread(server.stop)
        events.append((time.monotonic() - started, "redis stopped"))
        await asyncio.sleep(args.down)
        await asyncio.to_thread(server.start)
        events.append((time.monotonic() - started, "redis started (empty)"))

    seconds = args.minutes * 60
    with use_runtime(runtime), override_transport(FunctionTransport(answer)):
        started = time.monotonic()
        tasks = [asyncio.create_task(worker()) for _ in range(args.workers)]
        if args.restart_redis:
            tasks.append(asyncio.create_task(restart(started)))
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await runtime.aclose()
    errors = [repr(r) for r in results if not isinstance(r, asyncio.CancelledError | type(None))]
    times = sorted(t - started for t in admitted if t - started < seconds)
    return {"times": times, "events": events, "errors": errors}


def run_one(args: argparse.Namespace) -> dict:
    server = None
    url = args.redis_url or ""
    if args.backend == "redis" and not url:
        server = RedisServer(free_port())
        server.start()
        url = server.url
    elif args.restart_redis:
        raise SystemExit("--restart-redis needs the benchmark's own redis-server (no --redis-url)")
    try:
        run = asyncio.run(drive(args, url, server))
    finally:
        if server is not None:
            server.stop()
    times = run["times"]
    most, at = max_in_window(times)
    minutes = [
        sum(1 for t in times if m * WINDOW_S <= t < (m + 1) * WINDOW_S)
        for m in range(int(args.minutes + 0.999))
    ]
    return {
        "label": label(args),
        "command": command_line(args),
        "rpm": args.rpm,
        "burst": args.burst,
        "total": len(times),
        "max_in_60s": most,
        "max_window_start_s": round(at, 3),
        "per_minute": minutes,
        "first_10s": sum(1 for t in times if t < 10),
        "events": run["events"],
        "errors": run["errors"],
        "holds": most <= args.rpm and not run["errors"],
    }


def label(args: argparse.Namespace) -> str:
    return args.backend + (" + restart" if args.restart_redis else "")


def command_line(args: argparse.Namespace) -> str:
    parts = ["benchmarks/bench_rate_limit.py", f"--minutes {args.minutes:g}"]
    parts += [f"--rpm {args.rpm}", f"--burst {args.burst}", f"--backend {args.backend}"]
    if args.restart_redis:
        parts += ["--restart-redis", f"--restart-at {args.restart_at:g}", f"--down {args.down:g}"]
    return " ".join(parts)


def report(result: dict) -> None:
    verdict = "holds" if result["holds"] else "BROKEN"
    print(
        f"  {result['label']:<16} total {result['total']:>5}   max in any 60 s "
        f"{result['max_in_60s']:>4} (window from t={result['max_window_start_s']:.1f} s)   "
        f"per minute {result['per_minute']}   first 10 s {result['first_10s']}   "
        f"bound {result['rpm']}: {verdict}"
    )
    for at, what in result["events"]:
        print(f"      t={at:6.1f} s  {what}")
    for error in result["errors"]:
        print(f"      error: {error}")


def run_all(args: argparse.Namespace) -> list[dict]:
    """The three runs in parallel subprocesses (each its own process and event loop)."""
    variants = [["--backend", "memory"]]
    if args.redis_url:
        variants.append(["--backend", "redis", f"--redis-url={args.redis_url}"])
    elif shutil.which("redis-server"):
        variants.append(["--backend", "redis"])
        variants.append(["--backend", "redis", "--restart-redis"])
    else:
        print("  (redis-server is not installed: the Redis runs are skipped)")
    base = [sys.executable, __file__, "--json-line", f"--minutes={args.minutes}"]
    base += [f"--rpm={args.rpm}", f"--burst={args.burst}", f"--workers={args.workers}"]
    base += [f"--restart-at={args.restart_at}", f"--down={args.down}"]
    processes = [
        subprocess.Popen([*base, *variant], stdout=subprocess.PIPE, text=True)
        for variant in variants
    ]
    results = []
    for process in processes:
        out, _ = process.communicate()
        lines = out.strip().splitlines()
        if process.returncode not in (0, 1) or not lines:
            raise SystemExit(f"a benchmark run failed (exit {process.returncode}): {out}")
        results.append(json.loads(lines[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rpm", type=int, default=60)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--backend", choices=["memory", "redis", "all"], default="all")
    parser.add_argument("--restart-redis", action="store_true")
    parser.add_argument(
        "--restart-at", type=float, help="seconds into the run (default: 45%% of it)"
    )
    parser.add_argument("--down", type=float, default=5.0, help="seconds Redis stays down")
    parser.add_argument("--workers", type=int, default=32, help="concurrent callers")
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--json-line", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    if args.restart_at is None:
        args.restart_at = round(args.minutes * 60 * 0.45, 1)
    if args.backend == "all":
        print(
            f"rate-limit accuracy: {args.rpm} rpm, burst {args.burst}, {args.workers} "
            f"workers flat out for {args.minutes:g} min per backend (runs in parallel)"
        )
        results = run_all(args)
    else:
        results = [run_one(args)]
    for result in results:
        if not args.json_line:
            print(f"  $ .venv/bin/python {result['command']}")
            report(result)
    if args.json_line:
        print(json.dumps({k: v for k, v in results[0].items()}))
    sys.exit(0 if all(r["holds"] for r in results) else 1)


if __name__ == "__main__":
    main()
