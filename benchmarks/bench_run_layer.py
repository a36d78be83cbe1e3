"""Per-call overhead of ``complete()`` now, against a baseline commit, in one run.

The run layer (wrap_run, on_run_end, wrap_tool, costs, budgets, model parameters) must
cost next to nothing when no plugin implements the new hooks: the budget is 10 µs per
call over the baseline (issue 8). Both versions run ``complete()`` against a transport
that answers at once, with no plugins loaded and the same per-attempt timeout (120 s)
and no call deadline, each in its own interpreter; the interpreters alternate round by
round so load from elsewhere hits them alike. The baseline's sources come from a
temporary ``git worktree`` of ``--baseline``. A third column runs the current code with
its default timeouts (120 s per attempt, 600 s per call), whose timers cost a few µs,
and a fourth with every installed plugin loaded as by default (retries, rate limits
with the limit raised, prices, eval and tracing hooks), after ``gluellm.warmup()``.

    .venv/bin/python benchmarks/bench_run_layer.py [--baseline da08988] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_US = 10.0

CHILD = r"""
import asyncio, json, sys, time
from gluellm.api import complete
from gluellm.call import ModelCall, ModelResponse
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, override_transport, use_runtime


class Instant:
    def __init__(self):
        self.response = ModelResponse(content="ok", finish_reason="stop")

    async def complete(self, call):
        return self.response

    async def aclose(self):
        pass


async def main(calls, mode):
    # Unknown fields are ignored by the baseline's Settings (extra="ignore").
    same = mode == "same-timeouts"
    timeouts = {"default_request_timeout": 120, "default_call_deadline": None} if same else {}
    settings = Settings(_env_file=None, **timeouts)
    plugins = create_plugin_manager(load_entrypoints=mode == "plugins")
    runtime = Runtime(plugins, settings=settings)
    with use_runtime(runtime), override_transport(Instant()):
        if mode == "plugins":
            from gluellm.api import warmup

            await warmup("bench:model")  # plugins' background work done, as at a server's boot
        for _ in range(200):  # warm caches (tool schemas, prompt templates)
            await complete("hi", model="bench:model")
        started = time.process_time_ns()
        for _ in range(calls):
            await complete("hi", model="bench:model")
        return (time.process_time_ns() - started) / calls / 1000


print(json.dumps(asyncio.run(main(int(sys.argv[1]), sys.argv[2]))))
"""


def _sources(tree: Path) -> str:
    paths = [tree / "core" / "src", *sorted((tree / "plugins").glob("*/src"))]
    return os.pathsep.join(str(p) for p in paths)


def _per_call_us(tree: Path, calls: int, mode: str = "same-timeouts") -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUELLM_")}
    env["PYTHONPATH"] = _sources(tree)
    if mode == "plugins":
        # Every installed plugin with its defaults; only the limit is raised so that
        # no call waits, and logging is left unconfigured (no log file written).
        env["GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE"] = "100000000"
        env["GLUELLM_RATE_LIMIT_BURST"] = "100000000"
        env["GLUELLM_DISABLE_LOGGING"] = "true"
    else:
        env["GLUELLM_LOAD_PLUGINS"] = ""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(calls), mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tree,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="da08988", help="commit to compare against")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(baseline), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            now: list[float] = []
            then: list[float] = []
            defaults: list[float] = []
            plugins: list[float] = []
            runs = [
                (then, baseline, "same-timeouts"),
                (now, ROOT, "same-timeouts"),
                (defaults, ROOT, "defaults"),
                (plugins, ROOT, "plugins"),
            ]
            for number in range(args.rounds):
                # Reversed every other round: the process run right after another one
                # measured a few µs slower here, whichever it was.
                for samples, tree, mode in runs if number % 2 == 0 else reversed(runs):
                    samples.append(_per_call_us(tree, args.calls, mode))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)],
                check=False,
                capture_output=True,
            )
    before, after = statistics.median(then), statistics.median(now)
    print(f"complete() CPU per call, no plugins, instant transport ({args.rounds} rounds)")
    print(f"  baseline {args.baseline}: {before:7.1f} us")
    print(f"  now:              {after:7.1f} us")
    print(f"  difference:       {after - before:+7.1f} us (budget +{BUDGET_US:g} us)")
    print(f"  ratio:            {after / before:7.2f}x")
    print(
        f"  now, default timeouts (120 s attempt, 600 s call): {statistics.median(defaults):.1f} us"
    )
    print(
        "  now, every installed plugin with its defaults (rate limit raised): "
        f"{statistics.median(plugins):.1f} us"
    )


if __name__ == "__main__":
    main()
