"""Cost of pricing a model turn with the prices plugin (genai-prices), per call.

1. The first lookup in a fresh process: genai-prices' import and price data.
2. ``genai_prices.calc_price`` itself, next to the plugin's cached ``price_usd`` and to
   core's ``estimate_cost`` through the hook (pluggy included); both figures must agree.
3. ``complete()`` on a scripted transport (no network), with and without the plugin,
   interleaved round by round so machine load hits both alike: the difference is what
   pricing adds to a call.

    .venv/bin/python benchmarks/bench_prices.py [--rounds 15] [--calls 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from gluellm.api import complete
from gluellm.call import Usage
from gluellm.config import Settings
from gluellm.costs import estimate_cost
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import ScriptedTransport, override_transport, reply
from gluellm_plugins_prices import plugin, price_usd

MODEL = "openai:gpt-4o-mini"
USAGE = Usage(1000, 100, 1100)

COLD = """
import time
started = time.perf_counter()
from gluellm.call import Usage
from gluellm_plugins_prices import price_usd
price_usd("openai", "gpt-4o-mini", Usage(1000, 100, 1100))
print(time.perf_counter() - started)
"""


def runtime(with_prices: bool) -> Runtime:
    manager = create_plugin_manager(load_entrypoints=False)
    if with_prices:
        manager.register(plugin, name="prices")
    return Runtime(manager, settings=Settings(_env_file=None))  # type: ignore[call-arg]


def per_call_us(fn: object, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - started) / calls * 1e6


async def complete_us(rt: Runtime, calls: int) -> float:
    transport = ScriptedTransport(*[reply("ok", usage=(1000, 100)) for _ in range(calls)])
    with use_runtime(rt), override_transport(transport):
        started = time.perf_counter()
        for _ in range(calls):
            await complete("hi", model=MODEL)
        return (time.perf_counter() - started) / calls * 1e6


async def compare(rounds: int, calls: int) -> tuple[list[float], list[float]]:
    runtimes = {False: runtime(False), True: runtime(True)}
    for rt in runtimes.values():  # warm up: startup hooks, first lookups
        await complete_us(rt, 50)
    without: list[float] = []
    with_prices: list[float] = []
    for _ in range(rounds):
        without.append(await complete_us(runtimes[False], calls))
        with_prices.append(await complete_us(runtimes[True], calls))
    return without, with_prices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    cold = subprocess.run(
        [sys.executable, "-c", COLD], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"  first lookup in a fresh process: {float(cold) * 1000:.0f} ms")

    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    rt = runtime(True)
    genai_usage = PriceUsage(input_tokens=1000, output_tokens=100)
    genai = float(calc_price(genai_usage, "gpt-4o-mini", provider_id="openai").total_price)
    ours = estimate_cost(rt, MODEL, "openai", USAGE)
    raw = per_call_us(
        lambda: calc_price(
            PriceUsage(input_tokens=1000, output_tokens=100), "gpt-4o-mini", provider_id="openai"
        ),
        2000,
    )
    cached = per_call_us(lambda: price_usd("openai", "gpt-4o-mini", USAGE), 20000)
    hooked = per_call_us(lambda: estimate_cost(rt, MODEL, "openai", USAGE), 20000)
    print(f"  genai_prices.calc_price:            {raw:8.1f} us/call  (${genai})")
    print(f"  plugin price_usd (cached):          {cached:8.1f} us/call")
    print(f"  core estimate_cost through the hook:{hooked:8.1f} us/call  (${ours})")
    if ours != genai:
        print("  MISMATCH: the plugin's figure differs from genai-prices'")
        sys.exit(1)

    without, with_prices = asyncio.run(compare(args.rounds, args.calls))
    a, b = statistics.median(without), statistics.median(with_prices)
    print(
        f"  complete() median: {a:.1f} us without the plugin, {b:.1f} us with it "
        f"(+{b - a:.1f} us; min {min(without):.1f} / {min(with_prices):.1f})"
    )


if __name__ == "__main__":
    main()
