"""Benchmark clients side by side in one process; prints one JSON line with the numbers.

Run by ``benchmarks/run.py`` in a process of its own (the fake server runs in
another). The clients are interleaved round by round so that load from elsewhere on
the machine hits them alike.

    python benchmarks/bench_client.py --mode overhead --url http://127.0.0.1:PORT \\
        --clients openai/httpx,anyllm/aiohttp,gluellm/aiohttp,gluellm/lean

Clients (all send the same system + user message to the same model name):
    aiohttp    a bare ``aiohttp.ClientSession`` posting the JSON body (the floor)
    openai     raw ``openai.AsyncOpenAI`` (``/httpx``: the SDK default; ``/aiohttp``:
               ``http_client=openai.DefaultAioHttpClient()``)
    anyllm     one reused ``AnyLLM.create("openai", ...)`` instance, ``max_retries=0``
    transport  GlueLLM's any-llm transport called directly (no pipeline, no tool loop)
    lean       GlueLLM's openai-http transport called directly
    gluellm    ``gluellm.api.complete()`` on a runtime holding only the transport's
               plugin: ``/aiohttp`` and ``/httpx`` the any-llm transport on that stack,
               ``/lean`` the openai-http transport
    gluellm+plugins  the same with every installed plugin loaded (retries, rate limits
               raised so they never wait, prices, eval and tracing off by default ...)

Modes: ``overhead`` (sequential calls, zero latency: wall and CPU per call),
``throughput`` (N concurrent workers), ``stream`` (time to the first streamed token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MODEL = "gpt-4o-mini"
SYSTEM = "You are a helpful assistant."
USER = "hello"
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": USER},
]
STREAM_USER = "Tell me a story about a fox who learns to fly over the hills"

Send = Callable[[], Awaitable[Any]]
"""Sends one request; for ``stream`` mode, returns seconds to the first token."""


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _point_env_at(url: str) -> None:
    os.environ["OPENAI_BASE_URL"] = f"{url}/v1"
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    # Default plugins, but a rate limit that never makes a benchmark call wait.
    os.environ["GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE"] = "100000000"
    os.environ["GLUELLM_RATE_LIMIT_BURST"] = "100000000"
    os.environ["GLUELLM_DISABLE_LOGGING"] = "true"


async def _first_token(started: float, chunks: Any, content: Callable[[Any], Any]) -> float:
    """Seconds from ``started`` (before the request was sent) to the first content chunk.

    Every client's clock starts before its request, never after the SDK returned the
    opened stream: that would leave out the request and the response headers.
    """
    first = 0.0
    async for chunk in chunks:
        if not first and content(chunk):
            first = time.perf_counter() - started
    return first


def _openai_content(chunk: Any) -> Any:
    return chunk.choices and chunk.choices[0].delta.content


async def make_client(
    name: str, stack: str, url: str, stream: bool
) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """(send one request, close) for the named client."""
    base = f"{url}/v1"
    _point_env_at(url)
    if name == "aiohttp":
        return await _bare_aiohttp(base, stream)
    if name == "openai":
        import openai

        extra: dict[str, Any] = {}
        if stack == "aiohttp":
            extra["http_client"] = openai.DefaultAioHttpClient()
        client = openai.AsyncOpenAI(base_url=base, api_key="sk-bench", max_retries=0, **extra)

        async def send_openai() -> Any:
            if stream:
                started = time.perf_counter()
                chunks = await client.chat.completions.create(  # type: ignore[call-overload]
                    model=MODEL,
                    messages=[*MESSAGES[:1], {"role": "user", "content": STREAM_USER}],
                    stream=True,
                    stream_options={"include_usage": True},
                )
                return await _first_token(started, chunks, _openai_content)
            return await client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]

        return send_openai, client.close
    if name == "anyllm":
        import openai
        from any_llm import AnyLLM

        extra = {}
        if stack == "aiohttp":
            extra["http_client"] = openai.DefaultAioHttpClient()
        llm = AnyLLM.create(
            "openai",
            api_key="sk-bench",
            api_base=base,
            max_retries=0,
            unified_exceptions=True,
            **extra,
        )

        async def send_anyllm() -> Any:
            if stream:
                started = time.perf_counter()
                chunks = await llm.acompletion(
                    model=MODEL,
                    messages=[*MESSAGES[:1], {"role": "user", "content": STREAM_USER}],
                    stream=True,
                    stream_options={"include_usage": True},
                )
                return await _first_token(started, chunks, _openai_content)
            return await llm.acompletion(model=MODEL, messages=list(MESSAGES))

        return send_anyllm, llm.client.close  # type: ignore[attr-defined]
    if name in ("transport", "lean"):
        # A transport alone, without GlueLLM's pipeline and tool loop.
        from gluellm.call import ModelCall

        transport: Any
        if name == "lean":
            from gluellm_plugins_openai_http.transport import OpenAIHTTPTransport

            transport = OpenAIHTTPTransport("openai")
        else:
            from gluellm_plugins_anyllm.transport import AnyLLMTransport

            transport = AnyLLMTransport("openai", stack)  # type: ignore[arg-type]
        call = ModelCall(
            model=f"openai:{MODEL}", provider="openai", model_name=MODEL, messages=MESSAGES
        )
        await transport.prepare(call)

        async def send_transport() -> Any:
            return await transport.complete(call)

        return send_transport, transport.aclose
    if name in ("gluellm", "gluellm+plugins"):
        return await _gluellm(stack, with_plugins=name == "gluellm+plugins", stream=stream)
    raise SystemExit(f"unknown client {name!r}")


async def _bare_aiohttp(base: str, stream: bool) -> tuple[Send, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))
    body = json.dumps({"model": MODEL, "messages": MESSAGES}).encode()
    streamed = json.dumps(
        {
            "model": MODEL,
            "messages": [*MESSAGES[:1], {"role": "user", "content": STREAM_USER}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ).encode()
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    url = f"{base}/chat/completions"

    async def send() -> Any:
        if stream:
            started = time.perf_counter()
            first = 0.0
            async with session.post(url, data=streamed, headers=headers) as response:
                async for line in response.content:
                    if not first and line.startswith(b"data: {") and b'"content":"' in line:
                        first = time.perf_counter() - started
            return first
        async with session.post(url, data=body, headers=headers) as response:
            return json.loads(await response.read())

    return send, session.close


async def _gluellm(
    stack: str, *, with_plugins: bool, stream: bool
) -> tuple[Send, Callable[[], Awaitable[None]]]:
    if stack != "lean":
        os.environ["GLUELLM_ANYLLM_HTTP_STACK"] = stack
    from gluellm.api import complete, stream_complete, warmup
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime

    provider = "openai-http" if stack == "lean" else "openai"
    if with_plugins:
        manager = create_plugin_manager()
    else:
        manager = create_plugin_manager(load_entrypoints=False)
        if stack == "lean":
            from gluellm_plugins_openai_http import plugin as lean_plugin

            manager.register(lean_plugin, name="openai-http")
        else:
            from gluellm_plugins_anyllm import plugin as anyllm_plugin

            manager.register(anyllm_plugin, name="anyllm")
    runtime = Runtime(manager, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    model = f"{provider}:{MODEL}"
    # What a server does at boot (`gluellm.warmup`): the transport is built now (it
    # reads the stack variable, which the next client created in this process will
    # change), and plugins' background work (the prices database) is done before
    # anything is measured.
    await warmup(model, runtime=runtime)

    async def send_gluellm() -> Any:
        # Scoped per call: several GlueLLM clients (stacks) share this process.
        with use_runtime(runtime):
            if stream:
                started = time.perf_counter()
                first = 0.0
                async for chunk in stream_complete(STREAM_USER, model=model, system_prompt=SYSTEM):
                    if not first and chunk.content:
                        first = time.perf_counter() - started
                return first
            return await complete(USER, model=model, system_prompt=SYSTEM)

    async def close_gluellm() -> None:
        with use_runtime(runtime):
            await runtime.aclose()

    return send_gluellm, close_gluellm


async def overhead(
    sends: dict[str, Send], rounds: int, calls: int, warmup: int
) -> dict[str, dict[str, Any]]:
    """Sequential calls, the clients interleaved round by round.

    Interleaving matters on a shared machine: load that comes and goes hits every
    client alike, and the per-round paired difference cancels it.
    """
    for send in sends.values():
        for _ in range(warmup):
            await send()
    samples: dict[str, list[int]] = {name: [] for name in sends}
    round_medians: dict[str, list[float]] = {name: [] for name in sends}
    cpu: dict[str, float] = dict.fromkeys(sends, 0.0)
    names = list(sends)
    for number in range(rounds):
        # Alternate the order so no client always runs first (or right after a GC).
        for name in names if number % 2 == 0 else reversed(names):
            send = sends[name]
            mine: list[int] = []
            cpu_before = _cpu_seconds()
            for _ in range(calls):
                started = time.perf_counter_ns()
                await send()
                mine.append(time.perf_counter_ns() - started)
            cpu[name] += _cpu_seconds() - cpu_before
            samples[name].extend(mine)
            round_medians[name].append(statistics.median(mine))
    results: dict[str, dict[str, Any]] = {}
    for name, values in samples.items():
        values.sort()
        results[name] = {
            "median_us": statistics.median(values) / 1000,
            "p99_us": values[int(len(values) * 0.99) - 1] / 1000,
            "cpu_us_per_call": cpu[name] / len(values) * 1e6,
            "round_medians_us": [m / 1000 for m in round_medians[name]],
            "calls": len(values),
        }
    return results


async def throughput(
    sends: dict[str, Send], concurrency: int, requests: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """``requests`` calls by ``concurrency`` workers per client and round; best round wins.

    The best of a few interleaved rounds estimates what each client can do when the
    machine leaves it alone.
    """

    async def run(send: Send, total: int) -> int:
        remaining = total
        errors = 0

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                try:
                    await send()
                except Exception:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return errors

    for send in sends.values():  # open the connections, load every lazy import
        await run(send, max(concurrency * 2, 20))
    results: dict[str, dict[str, Any]] = {name: {"rounds": []} for name in sends}
    names = list(sends)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            cpu = _cpu_seconds()
            started = time.perf_counter()
            errors = await run(sends[name], requests)
            elapsed = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
            results[name]["rounds"].append(
                {
                    "rps": requests / elapsed,
                    "cpu_ms_per_request": cpu / requests * 1000,
                    "errors": errors,
                }
            )
    for result in results.values():
        best = max(result["rounds"], key=lambda r: r["rps"])
        result.update(best)
        result["median_rps"] = statistics.median(r["rps"] for r in result["rounds"])
    return results


async def stream_ttft(
    sends: dict[str, Send], rounds: int, calls: int, warmup: int
) -> dict[str, dict[str, Any]]:
    """Sequential streamed calls, interleaved: seconds to the first token, whole streams read."""
    for send in sends.values():
        for _ in range(warmup):
            await send()
    samples: dict[str, list[float]] = {name: [] for name in sends}
    names = list(sends)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            for _ in range(calls):
                samples[name].append(await sends[name]())
    return {
        name: {
            "ttft_median_us": statistics.median(values) * 1e6,
            "ttft_p90_us": sorted(values)[int(len(values) * 0.9) - 1] * 1e6,
            "calls": len(values),
        }
        for name, values in samples.items()
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--clients",
        default="openai/httpx,anyllm/aiohttp,gluellm/aiohttp",
        help="comma list of client/stack (see the module docstring)",
    )
    parser.add_argument("--mode", required=True, choices=["overhead", "throughput", "stream"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200, help="overhead: calls per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000, help="throughput: per round")
    parser.add_argument("--profile", metavar="FILE", help="write a pyinstrument HTML profile")
    args = parser.parse_args()

    sends: dict[str, Send] = {}
    closers: list[Callable[[], Awaitable[None]]] = []
    for spec in args.clients.split(","):
        client, _, stack = spec.partition("/")
        send, close = await make_client(client, stack or "httpx", args.url, args.mode == "stream")
        sends[spec] = send
        closers.append(close)
    profiler: Any = None
    if args.profile:
        from pyinstrument import Profiler  # optional: pip install pyinstrument

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    try:
        if args.mode == "overhead":
            result = await overhead(sends, args.rounds, args.calls, args.warmup)
        elif args.mode == "stream":
            result = await stream_ttft(sends, args.rounds, args.calls, min(args.warmup, 20))
        else:
            result = await throughput(sends, args.concurrency, args.requests, args.rounds)
    finally:
        if profiler is not None:
            profiler.stop()
            Path(args.profile).write_text(profiler.output_html())  # noqa: ASYNC240
        for close in closers:
            await close()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
