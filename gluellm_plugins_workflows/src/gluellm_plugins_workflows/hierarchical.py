"""Hierarchical: a manager splits the task (a `TaskPlan` decision), workers do the parts.

Cost: one planning call, one call per subtask (at most ``max_subtasks``; concurrent
with ``parallel_workers``), plus one synthesis call unless ``synthesis_strategy`` is
``concatenate``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import HierarchicalConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["HierarchicalConfig", "HierarchicalWorkflow", "Subtask", "TaskPlan"]


class Subtask(BaseModel):
    """One part of the task."""

    description: str = Field(description="What to do, self-contained.")
    worker: str | None = Field(default=None, description="The worker best suited, by name.")


class TaskPlan(BaseModel):
    """The manager's decomposition."""

    subtasks: list[Subtask] = Field(description="Independent parts that together do the task.")


def plan_prompt(task: str, workers: list[str], limit: int) -> str:
    """What the manager is asked first."""
    return (
        f"Task: {task}\n\nBreak the task into at most {limit} self-contained subtasks and "
        f"assign each to one of these workers: {', '.join(workers)}."
    )


def work_prompt(task: str, subtask: str, previous: str) -> str:
    """What a worker is asked."""
    before = f"Results of earlier subtasks:\n{previous}\n\n" if previous else ""
    return f"Overall task: {task}\n\n{before}Your subtask: {subtask}\n\nComplete your subtask."


_SYNTHESIS = {
    "summarize": "Summarize the workers' results into one concise, complete answer to the task.",
    "merge": "Merge the workers' results into one coherent deliverable, resolving overlaps.",
}


def _results(parts: list[tuple[Subtask, str]]) -> str:
    return "\n\n".join(f"## {s.description}\n{text}" for s, text in parts)


class HierarchicalWorkflow(BaseWorkflow):
    """Decompose, delegate (in parallel or in sequence), synthesize.

    Args:
        manager: Plans the subtasks and synthesizes the results.
        workers: ``(name, executor)`` pairs.
        config: Subtask limit, parallelism and synthesis strategy.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "hierarchical"

    def __init__(
        self,
        manager: Executor,
        workers: Sequence[tuple[str, Executor]],
        config: HierarchicalConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if not workers:
            raise ValueError("HierarchicalWorkflow needs at least one (name, executor) worker.")
        self.manager = manager
        self.workers = list(workers)
        self.config = config or HierarchicalConfig()

    def _assign(self, subtasks: list[Subtask]) -> list[tuple[str, Executor]]:
        by_name = {name.casefold(): (name, executor) for name, executor in self.workers}
        assigned = []
        for index, subtask in enumerate(subtasks):
            named = by_name.get((subtask.worker or "").casefold())
            assigned.append(named or self.workers[index % len(self.workers)])
        return assigned

    def _work(
        self, state: WorkflowState, worker: tuple[str, Executor], subtask: Subtask, previous: str
    ) -> Callable[[], Awaitable[str]]:
        name, executor = worker

        async def work() -> str:
            return await state.step(
                executor,
                work_prompt(state.input, subtask.description, previous),
                role="worker",
                agent=name,
                subtask=subtask.description,
            )

        return work

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        names = [name for name, _ in self.workers]
        plan = await state.decide(
            self.manager,
            plan_prompt(state.input, names, config.max_subtasks),
            TaskPlan,
            role="planner",
            fallback=lambda raw: TaskPlan(subtasks=[Subtask(description=state.input)]),
        )
        subtasks = [s for s in plan.subtasks if s.description.strip()][: config.max_subtasks]
        if not subtasks:
            subtasks = [Subtask(description=state.input)]
        assigned = self._assign(subtasks)
        state.metadata.update(
            subtasks=[
                {"description": s.description, "worker": w[0]}
                for s, w in zip(subtasks, assigned, strict=True)
            ],
            parallel_workers=config.parallel_workers,
        )
        if config.parallel_workers:
            outputs = await state.parallel(
                [self._work(state, w, s, "") for s, w in zip(subtasks, assigned, strict=True)],
                config.max_parallel_workers,
            )
        else:
            outputs = []
            for subtask, worker in zip(subtasks, assigned, strict=True):
                done = list(zip(subtasks, outputs, strict=False))
                outputs.append(await self._work(state, worker, subtask, _results(done))())
                state.output = _results(list(zip(subtasks, outputs, strict=False)))
        parts = list(zip(subtasks, outputs, strict=True))
        state.iterations = len(parts)
        state.output = _results(parts)
        if config.synthesis_strategy == "concatenate":
            return state.output
        return await state.step(
            self.manager,
            f"Task: {state.input}\n\nWorkers' results:\n{state.output}\n\n"
            f"{_SYNTHESIS[config.synthesis_strategy]}",
            role="synthesis",
        )
