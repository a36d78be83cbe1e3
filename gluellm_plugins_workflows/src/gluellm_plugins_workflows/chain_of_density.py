"""Chain of density: each version keeps the content and adds missing entities/details/examples.

Cost: ``num_iterations`` calls (the first writes the initial version).
"""

from __future__ import annotations

from typing import Any

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ChainOfDensityConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["ChainOfDensityConfig", "ChainOfDensityWorkflow"]

_WHAT = {
    "entities": "1-3 informative entities (names, places, numbers, concepts)",
    "details": "1-3 concrete, specific details",
    "examples": "1-2 concrete examples",
}


def densify_prompt(task: str, previous: str, config: ChainOfDensityConfig, words: int) -> str:
    """What the generator is asked for each version after the first."""
    length = (
        f" Keep it about the same length (about {words} words): make room by compressing "
        "and fusing, never by dropping content."
        if config.preserve_length
        else ""
    )
    return (
        f"Task:\n{task}\n\nPrevious version:\n{previous}\n\n"
        f"Rewrite it to be denser: keep everything it says and add "
        f"{_WHAT[config.density_increment]} that are missing.{length} "
        "Reply with the new version only."
    )


class ChainOfDensityWorkflow(BaseWorkflow):
    """Progressively denser versions of the same content.

    Args:
        generator: Writes every version.
        config: Versions, what each adds, and whether the length is kept.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "chain_of_density"

    def __init__(
        self,
        generator: Executor,
        config: ChainOfDensityConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.generator = generator
        self.config = config or ChainOfDensityConfig()

    async def _run(self, state: WorkflowState) -> str:
        versions: list[str] = []
        content = ""
        for index in range(1, self.config.num_iterations + 1):
            if index == 1:
                prompt = state.input
            else:
                prompt = densify_prompt(state.input, content, self.config, len(content.split()))
            content = await state.step(self.generator, prompt, role="generator", version=index)
            versions.append(content)
            state.output = content
            state.iterations = index
        state.metadata.update(
            versions=versions,
            word_counts=[len(v.split()) for v in versions],
            density_increment=self.config.density_increment,
        )
        return content
