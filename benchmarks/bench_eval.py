"""What recording costs a complete() call: no store vs JSONL, SQLite and callbacks.

One process, one run: the model answers in process (FunctionTransport: no HTTP), so
the figures are the recording path's own cost. Modes run interleaved, round by round,
so load from elsewhere on the machine hits them alike. For each mode: median and p95
per-call latency of sequential calls, the median added over no store, and the time for
a burst of concurrent calls. Two misbehaving callbacks show the caller is unaffected:
one raises on every record, one sleeps 5 s per record.

    .venv/bin/python benchmarks/bench_eval.py [--rounds 5] [--calls 400] [--burst 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from gluellm.api import GlueLLM
from gluellm.eval import CallbackStore, JSONLFileStore, SQLiteStore
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, override_transport, use_runtime
from gluellm.testing import FunctionTransport
from gluellm_plugins_eval import plugin as eval_plugin

MODES = ("none", "jsonl", "sqlite", "callback", "callback raises", "callback sleeps 5 s")


def make_stores(folder: Path, release: threading.Event) -> dict[str, Any]:
    def fine(record: Any) -> None:
        pass

    def raises(record: Any) -> None:
        raise RuntimeError("storage down")

    def sleeps(record: Any) -> None:
        release.wait(5)  # 5 s per record, unless the benchmark is over

    return {
        "none": None,
        "jsonl": JSONLFileStore(folder / "bench.jsonl"),
        "sqlite": SQLiteStore(folder / "bench.db"),
        "callback": CallbackStore(fine),
        "callback raises": CallbackStore(raises),
        # Room for every record of the run: with the default 10,000 and when_full="wait",
        # a store this slow would (by design) slow the calls to its own pace.
        "callback sleeps 5 s": CallbackStore(sleeps, queue_size=1_000_000),
    }


async def sequential(client: GlueLLM, calls: int) -> list[float]:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        await client.complete(f"question {i}")
        times.append(time.perf_counter() - started)
    return times


async def burst(client: GlueLLM, calls: int) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(client.complete(f"burst {i}") for i in range(calls)))
    return time.perf_counter() - started


async def main(rounds: int, calls: int, burst_size: int) -> None:
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(eval_plugin, name="eval")
    release = threading.Event()
    with tempfile.TemporaryDirectory() as folder:
        stores = make_stores(Path(folder), release)
        clients = {}
        for mode, store in stores.items():
            clients[mode] = GlueLLM(model="bench:model", eval_store=store)
            clients[mode]._remember = False  # one-off calls: no growing conversation
        latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
        bursts: dict[str, list[float]] = {mode: [] for mode in MODES}
        with use_runtime(Runtime(manager)), override_transport(FunctionTransport(lambda c: "4")):
            await sequential(clients["none"], 200)  # warm-up
            for _ in range(rounds):
                for mode in MODES:
                    latencies[mode] += await sequential(clients[mode], calls)
                for mode in MODES:
                    bursts[mode].append(await burst(clients[mode], burst_size))
                    # Let the writers catch up between bursts, as a real app idles.
                    if mode not in ("none", "callback sleeps 5 s"):
                        await stores[mode].flush()
        base = statistics.median(latencies["none"])
        print(f"complete() per call, {rounds} rounds x {calls} sequential calls per mode")
        print(f"{'mode':<22}{'median us':>10}{'p95 us':>10}{'added us':>10}{'burst s':>10}")
        for mode in MODES:
            times = sorted(latencies[mode])
            median = statistics.median(times)
            p95 = times[int(0.95 * (len(times) - 1))]
            added = median - base
            print(
                f"{mode:<22}{median * 1e6:>10.1f}{p95 * 1e6:>10.1f}{added * 1e6:>10.1f}"
                f"{min(bursts[mode]):>10.3f}"
            )
        print(f"(burst: best of {rounds} bursts of {burst_size} concurrent calls)")
        sleeper = stores["callback sleeps 5 s"]
        print(
            f"callback sleeps 5 s: {sleeper.stats.pending} records still waiting on it when "
            "the calls had all returned"
        )
        release.set()
        for store in stores.values():
            if store is not None:
                await store.close()
        written = {m: s.stats.written for m, s in stores.items() if s is not None}
        failed = stores["callback raises"].stats.failed
        print(f"records written after close: {written}; raising callback failures: {failed}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--burst", type=int, default=2000)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.calls, options.burst))
