"""Round-robin collaboration: agents take turns on a shared piece of work.

Cost: ``len(agents)`` calls per round, ``max_rounds`` rounds, plus one synthesis call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import RoundRobinConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import transcript

__all__ = ["RoundRobinConfig", "RoundRobinWorkflow"]

_STYLE = {
    "extend": "Extend the work: add a new contribution that builds on what is there.",
    "refine": "Refine the work: rewrite the current version to make it better as a whole.",
    "challenge": "Challenge the work: point out its weaknesses, then contribute a fix.",
}


def turn_prompt(task: str, name: str, style: str, so_far: str) -> str:
    """What an agent is asked on its turn."""
    work = f"Contributions so far:\n{so_far}\n\n" if so_far else "You are first.\n\n"
    return f"Task: {task}\n\nYou are {name}.\n\n{work}{_STYLE[style]}"


def synthesis_prompt(task: str, so_far: str) -> str:
    """What the first agent is asked at the end."""
    return (
        f"Task: {task}\n\nContributions:\n{so_far}\n\n"
        "Synthesize all contributions into one final, coherent result."
    )


class RoundRobinWorkflow(BaseWorkflow):
    """Agents contribute in turn for a number of rounds; an optional final synthesis.

    Args:
        agents: ``(name, executor)`` pairs, in speaking order.
        config: Rounds, contribution style and synthesis.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "round_robin"

    def __init__(
        self,
        agents: Sequence[tuple[str, Executor]],
        config: RoundRobinConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if not agents:
            raise ValueError("RoundRobinWorkflow needs at least one (name, executor) agent.")
        self.agents = list(agents)
        self.config = config or RoundRobinConfig()

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        turns: list[tuple[str, str]] = []
        for round_ in range(1, config.max_rounds + 1):
            for name, executor in self.agents:
                prompt = turn_prompt(
                    state.input, name, config.contribution_style, transcript(turns)
                )
                text = await state.step(
                    executor, prompt, role="contributor", agent=name, round=round_
                )
                turns.append((name, text))
                state.output = text
            state.iterations = round_
        state.metadata["contributions"] = [{"agent": a, "text": t} for a, t in turns]
        if config.final_synthesis:
            name, executor = self.agents[0]
            return await state.step(
                executor,
                synthesis_prompt(state.input, transcript(turns)),
                role="synthesis",
                agent=name,
            )
        if config.contribution_style == "extend":
            return "\n\n".join(text for _, text in turns)
        return turns[-1][1]
