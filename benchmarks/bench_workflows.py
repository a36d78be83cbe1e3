"""Workflows run their parallel phases concurrently: wall time ~ the slowest branch.

With 300 ms of server latency per request, times the iterative workflow's critics,
hierarchical workers (``parallel_workers=True`` and, for contrast, ``False``) and
MapReduce's map phase, from the workflow's own step events. Prints a table and one JSON
line. Runs over real HTTP (any-llm -> openai SDK -> fake provider server).

    python benchmarks/bench_workflows.py [--latency 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.gluellm_plugins_workflows.http


def _responder(subtasks: int) -> Any:
    from gluellm_plugins_mock.fake_server import FakeReply
    from tests.gluellm_plugins_workflows.http import Responder, schema_of

    plain = Responder()

    def answer(request: Any) -> Any:
        schema = schema_of(request)
        if schema is not None and schema.get("title") == "TaskPlan":
            plan = {"subtasks": [{"description": f"part {i}"} for i in range(1, subtasks + 1)]}
            return FakeReply.text(json.dumps(plan))
        return plain(request)

    return answer


def _agent(name: str) -> Any:
    from gluellm.executors import AgentExecutor
    from gluellm.models.agent import Agent
    from gluellm.models.prompt import SystemPrompt

    return AgentExecutor(
        Agent(name=name, description=name, system_prompt=SystemPrompt(content=f"You are {name}."))
    )


def _workflows() -> dict[str, tuple[Any, str, str]]:
    """name -> (workflow, input, the role whose steps form the parallel phase)."""
    from gluellm.models.workflow import (
        CriticConfig,
        HierarchicalConfig,
        IterativeConfig,
        MapReduceConfig,
    )
    from gluellm.workflows.hierarchical import HierarchicalWorkflow
    from gluellm.workflows.iterative import IterativeRefinementWorkflow
    from gluellm.workflows.map_reduce import MapReduceWorkflow

    workers = [(f"Worker{i}", _agent(f"Worker{i}")) for i in (1, 2, 3)]
    return {
        "iterative: 2 critics": (
            IterativeRefinementWorkflow(
                producer=_agent("Writer"),
                critics=[
                    CriticConfig(executor=_agent(f"Critic{i}"), specialty=f"s{i}", goal="g")
                    for i in (1, 2)
                ],
                config=IterativeConfig(max_iterations=1),
            ),
            "Write about asyncio",
            "critic",
        ),
        "hierarchical: 3 workers, parallel": (
            HierarchicalWorkflow(
                _agent("Manager"), workers, HierarchicalConfig(synthesis_strategy="concatenate")
            ),
            "Write a report",
            "worker",
        ),
        "hierarchical: 3 workers, sequential": (
            HierarchicalWorkflow(
                _agent("Manager"),
                workers,
                HierarchicalConfig(synthesis_strategy="concatenate", parallel_workers=False),
            ),
            "Write a report",
            "worker",
        ),
        "map_reduce: 4 chunks": (
            MapReduceWorkflow(_agent("Mapper"), config=MapReduceConfig(max_parallel_chunks=4)),
            "\n\n".join(f"Paragraph {i}." for i in range(1, 5)),
            "mapper",
        ),
    }


async def _measure(workflow: Any, text: str, role: str) -> dict[str, Any]:
    started: dict[int, float] = {}
    spans: list[tuple[float, float]] = []
    begin = time.perf_counter()
    async for event in workflow.stream(text):
        now = time.perf_counter()
        if event.role != role:
            continue
        if event.kind == "step_started":
            started[event.step] = now
        elif event.kind == "step_finished":
            spans.append((started[event.step], now))
    total = time.perf_counter() - begin
    phase = max(end for _, end in spans) - min(start for start, _ in spans)
    return {
        "branches": len(spans),
        "phase_wall_s": round(phase, 3),
        "sum_of_branches_s": round(sum(end - start for start, end in spans), 3),
        "slowest_branch_s": round(max(end - start for start, end in spans), 3),
        "workflow_wall_s": round(total, 3),
    }


async def main(latency: float) -> dict[str, Any]:
    from gluellm.runtime import use_runtime
    from gluellm_plugins_mock.fake_server import FakeProviderServer
    from tests.gluellm_plugins_workflows.http import http_runtime

    server = FakeProviderServer(latency=latency, record_requests=False)
    server.responder = _responder(subtasks=3)
    async with server:
        os.environ["OPENAI_BASE_URL"] = server.openai_base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        runtime = http_runtime()
        results = {}
        try:
            with use_runtime(runtime):
                await _measure(*_workflows()["map_reduce: 4 chunks"])  # warm up the client
                for name, (workflow, text, role) in _workflows().items():
                    results[name] = await _measure(workflow, text, role)
        finally:
            await runtime.aclose()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3, help="server latency (s)")
    args = parser.parse_args()
    numbers = asyncio.run(main(args.latency))
    print(f"server latency {args.latency:.3f} s per request")
    print(f"{'phase':38} {'branches':>8} {'wall':>7} {'sum':>7} {'slowest':>8}")
    for name, row in numbers.items():
        print(
            f"{name:38} {row['branches']:>8} {row['phase_wall_s']:>7.3f} "
            f"{row['sum_of_branches_s']:>7.3f} {row['slowest_branch_s']:>8.3f}"
        )
    print(json.dumps({"latency_s": args.latency, "phases": numbers}))
