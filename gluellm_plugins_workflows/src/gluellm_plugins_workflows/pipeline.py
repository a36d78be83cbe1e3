"""Pipeline: stages run in order; each stage's output is the next stage's input.

Cost: one model call per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.executors import Executor

__all__ = ["PipelineWorkflow"]


class PipelineWorkflow(BaseWorkflow):
    """Named stages in sequence; interactions carry ``stage``.

    Args:
        stages: ``(name, executor)`` pairs, in order.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "pipeline"

    def __init__(
        self,
        stages: Sequence[tuple[str, Executor]],
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if not stages:
            raise ValueError("PipelineWorkflow needs at least one (name, executor) stage.")
        self.stages = list(stages)

    async def _run(self, state: WorkflowState) -> str:
        current = state.input
        outputs: dict[str, str] = {}
        for index, (name, executor) in enumerate(self.stages, 1):
            current = await state.step(executor, current, role="stage", stage=name)
            outputs[name] = current
            state.output = current
            state.iterations = index
        state.metadata["stage_outputs"] = outputs
        return current
