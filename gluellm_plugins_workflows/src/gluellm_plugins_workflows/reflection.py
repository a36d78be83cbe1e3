"""Reflection: generate, critique (a `Reflection` decision), improve; repeat.

Cost: 1 call for the first draft, then per reflection one critique call and, unless
the critique is satisfied, one improvement call: at most ``1 + 2 * max_reflections``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ReflectionConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["Reflection", "ReflectionConfig", "ReflectionWorkflow"]


class Reflection(BaseModel):
    """A critique of one's own output."""

    critique: str = Field(description="What is wrong or missing, specifically.")
    score: float = Field(ge=0.0, le=1.0, description="Quality from 0.0 to 1.0.")
    satisfactory: bool = Field(description="True when no further improvement is needed.")


DEFAULT_REFLECTION_PROMPT = (
    "Task:\n{task}\n\nOutput to critique:\n{content}\n\n"
    "Critique this output honestly: name its weaknesses and what would improve it, score "
    "its quality from 0.0 to 1.0, and say whether it is satisfactory as it is."
)


def improve_prompt(task: str, content: str, critique: str) -> str:
    """What the generator is asked after a critique."""
    return (
        f"Task:\n{task}\n\nYour previous output:\n{content}\n\nCritique:\n{critique}\n\n"
        "Write an improved version that addresses the critique. Reply with it only."
    )


class ReflectionWorkflow(BaseWorkflow):
    """Self-critique and improvement loop.

    Args:
        generator: Writes and improves the output.
        reflector: Critiques it; by default the generator critiques itself.
        config: Reflections, early stopping and the critique prompt.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "reflection"

    def __init__(
        self,
        generator: Executor,
        reflector: Executor | None = None,
        config: ReflectionConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.generator = generator
        self.reflector = reflector or generator
        self.config = config or ReflectionConfig()

    def _critique_prompt(self, task: str, content: str) -> str:
        template = self.config.reflection_prompt_template or DEFAULT_REFLECTION_PROMPT
        values: defaultdict[str, str] = defaultdict(str, task=task, content=content)
        return template.format_map(values)

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        content = await state.step(self.generator, state.input, role="generator", reflection=0)
        state.output = content
        scores: list[float] = []
        state.metadata.update(scores=scores, stopped_early=False)
        for index in range(1, config.max_reflections + 1):
            reflection = await state.decide(
                self.reflector,
                self._critique_prompt(state.input, content),
                Reflection,
                role="reflector",
                fallback=lambda raw: Reflection(critique=raw or "", score=0.0, satisfactory=False),
                reflection=index,
            )
            scores.append(reflection.score)
            state.iterations = index
            if reflection.satisfactory:
                state.metadata.update(stopped_early=True, stop_because="satisfactory")
                break
            if (
                config.min_improvement_threshold is not None
                and len(scores) > 1
                and scores[-1] - scores[-2] < config.min_improvement_threshold
            ):
                state.metadata.update(stopped_early=True, stop_because="min_improvement_threshold")
                break
            content = await state.step(
                self.generator,
                improve_prompt(state.input, content, reflection.critique),
                role="generator",
                reflection=index,
            )
            state.output = content
        return content
