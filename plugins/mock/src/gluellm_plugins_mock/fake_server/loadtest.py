"""How fast is the fake server? ``python -m gluellm_plugins_mock.fake_server.loadtest``.

Starts the standalone server in its own process (so the load generator does not share
its core), drives it with a raw aiohttp client at a fixed concurrency for a bounded time,
and prints requests per second and the server's CPU time per request. Only ever talks to
the server it started, on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

import aiohttp


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), or NaN where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(url: str, body: bytes, concurrency: int, seconds: float) -> int:
    done = 0
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-test"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(deadline: float) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"the fake server answered {response.status}")
                done += 1

        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    return done


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv``, run the load test, print the result."""
    parser = argparse.ArgumentParser(prog="python -m gluellm_plugins_mock.fake_server.loadtest")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time (max 60)")
    parser.add_argument("--latency", type=float, default=0.0, help="server latency, seconds")
    parser.add_argument("--stream", action="store_true", help="ask for SSE streams")
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 60.0)
    message = {"role": "user", "content": "Hello there, how are you today?"}
    body = json.dumps({"model": "gpt-4o-mini", "messages": [message], "stream": args.stream})
    command = [sys.executable, "-m", "gluellm_plugins_mock.fake_server", "--latency"]
    with subprocess.Popen(
        [*command, str(args.latency)], stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip() + "/v1/chat/completions"
            asyncio.run(_drive(url, body.encode(), args.concurrency, 0.5))  # warm up
            cpu_before, started = _cpu_seconds(server.pid), time.perf_counter()
            done = asyncio.run(_drive(url, body.encode(), args.concurrency, seconds))
            elapsed = time.perf_counter() - started
            cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
    print(
        f"concurrency={args.concurrency} latency={args.latency}s stream={args.stream}: "
        f"{done / elapsed:,.0f} requests/s, server CPU {1e6 * cpu / max(done, 1):,.0f} µs/request"
    )


if __name__ == "__main__":
    main()
