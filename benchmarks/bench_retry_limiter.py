"""Overhead of the retry layer (and, later, the rate limiter) per call when nothing fails.

Runs the real call pipeline (`gluellm.pipeline.run_call`) against a transport that
answers at once, with and without the plugin, in one process and one run, and prints
the median nanoseconds per call of each and their difference. Budget (DESIGN.md §7,
issue 4): retry + rate limiter together add at most 50 µs per call.

    .venv/bin/python benchmarks/bench_retry_limiter.py [--rounds 41] [--calls 2000]

Each part lives in its own function so the rate-limiter part can sit beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from gluellm.call import ModelCall, ModelResponse
from gluellm.config import Settings
from gluellm.pipeline import run_call
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, override_transport, use_runtime

BUDGET_NS = 50_000

_CALL = ModelCall(
    model="bench:model",
    provider="bench",
    model_name="model",
    messages=({"role": "user", "content": "hi"},),
)


class InstantTransport:
    """Answers every call at once with the same response: only GlueLLM's cost remains."""

    def __init__(self) -> None:
        self._response = ModelResponse(content="ok", finish_reason="stop")

    async def complete(self, call: ModelCall) -> ModelResponse:
        return self._response

    async def aclose(self) -> None:
        pass


async def _per_call_ns(runtime: Runtime, calls: int) -> float:
    """Mean nanoseconds per call over ``calls`` back-to-back calls."""
    with use_runtime(runtime), override_transport(InstantTransport()):
        started = time.perf_counter_ns()
        for _ in range(calls):
            await run_call(_CALL, runtime)
        return (time.perf_counter_ns() - started) / calls


async def compare(
    make_baseline: Callable[[], Runtime],
    make_subject: Callable[[], Runtime],
    *,
    rounds: int,
    calls: int,
) -> tuple[float, float]:
    """Median ns per call of the baseline and the subject runtime, rounds interleaved.

    Interleaving keeps drift (CPU frequency, other load) from favouring either side.
    """
    baseline_rt, subject_rt = make_baseline(), make_subject()
    for runtime in (baseline_rt, subject_rt):  # warm-up: imports, caches
        await _per_call_ns(runtime, calls)
    baseline, subject = [], []
    for _ in range(rounds):
        baseline.append(await _per_call_ns(baseline_rt, calls))
        subject.append(await _per_call_ns(subject_rt, calls))
    return statistics.median(baseline), statistics.median(subject)


def _runtime(*plugins: tuple[str, object]) -> Runtime:
    manager: PluginManager = create_plugin_manager(load_entrypoints=False)
    for name, plugin in plugins:
        manager.register(plugin, name=name)
    # Rate limiting off: this part measures the retry layer alone.
    settings = Settings(_env_file=None, retry_max_attempts=3, rate_limit_enabled=False)  # type: ignore[call-arg]
    return Runtime(manager, settings=settings)


async def bench_retry(rounds: int, calls: int) -> float:
    """Print and return the retry layer's added ns per call."""
    from gluellm_plugins_stamina import plugin as stamina_plugin

    base, with_retry = await compare(
        _runtime, lambda: _runtime(("stamina", stamina_plugin)), rounds=rounds, calls=calls
    )
    added = with_retry - base
    print(
        f"retry (stamina): pipeline {base:,.0f} ns/call without, {with_retry:,.0f} ns/call "
        f"with -> +{added:,.0f} ns/call ({added / 1000:.1f} µs, ratio {with_retry / base:.2f}x)"
    )
    return added


# --- rate limiter (aiolimiter plugin) ---------------------------------------------

# Limits so high that no call ever waits: what remains is the limiter's bookkeeping
# (hook call, settings read, per-loop limiter lookup, taking a permit).
_NEVER_WAITS = 1_000_000_000


def _limiter_runtime(*plugins: tuple[str, object]) -> Runtime:
    manager: PluginManager = create_plugin_manager(load_entrypoints=False)
    for name, plugin in plugins:
        manager.register(plugin, name=name)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        retry_max_attempts=3,
        rate_limit_enabled=True,
        rate_limit_requests_per_minute=_NEVER_WAITS,
        rate_limit_burst=_NEVER_WAITS,
    )
    return Runtime(manager, settings=settings)


async def bench_rate_limiter(rounds: int, calls: int) -> float:
    """Print and return the rate limiter's added ns per call (in-memory backend, no waits)."""
    from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin

    base, limited = await compare(
        _limiter_runtime,
        lambda: _limiter_runtime(("aiolimiter", aiolimiter_plugin)),
        rounds=rounds,
        calls=calls,
    )
    added = limited - base
    print(
        f"rate limiter (aiolimiter): pipeline {base:,.0f} ns/call without, {limited:,.0f} "
        f"ns/call with -> +{added:,.0f} ns/call ({added / 1000:.1f} µs, "
        f"ratio {limited / base:.2f}x)"
    )
    return added


async def bench_retry_and_rate_limiter(rounds: int, calls: int) -> float:
    """Print and return what retry and rate limiter add together, against neither plugin."""
    from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
    from gluellm_plugins_stamina import plugin as stamina_plugin

    base, both = await compare(
        _limiter_runtime,
        lambda: _limiter_runtime(("stamina", stamina_plugin), ("aiolimiter", aiolimiter_plugin)),
        rounds=rounds,
        calls=calls,
    )
    added = both - base
    print(
        f"retry + rate limiter: pipeline {base:,.0f} ns/call without, {both:,.0f} ns/call "
        f"with -> +{added:,.0f} ns/call ({added / 1000:.1f} µs, ratio {both / base:.2f}x)"
    )
    return added


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    await bench_retry(args.rounds, args.calls)
    await bench_rate_limiter(args.rounds, args.calls)
    # The budget is for both layers together, measured together in the same run.
    total = await bench_retry_and_rate_limiter(args.rounds, args.calls)
    verdict = "within" if total <= BUDGET_NS else "OVER"
    print(f"total added: {total / 1000:.1f} µs/call, {verdict} the {BUDGET_NS // 1000} µs budget")


if __name__ == "__main__":
    asyncio.run(main())
