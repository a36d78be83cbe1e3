"""Debate: participants argue in turns, seeing every earlier argument; a judge may decide.

Cost: ``len(participants)`` calls per round, plus one judge call per round with
``require_consensus`` (the consensus check), plus one verdict with a judge and
``judge_decides``. Two participants, three rounds and a judge: 7 calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import DebateConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import transcript

__all__ = ["ConsensusCheck", "DebateConfig", "DebateWorkflow"]


class ConsensusCheck(BaseModel):
    """Whether the debaters now agree."""

    consensus_reached: bool = Field(description="True when the participants agree.")
    agreed_position: str = Field(default="", description="The shared position, if any.")


def argument_prompt(topic: str, name: str, round_: int, rounds: int, history: str) -> str:
    """What a debater is asked in a round."""
    earlier = f"Arguments so far:\n{history}\n\n" if history else "You speak first.\n\n"
    return (
        f"Debate topic: {topic}\n\nYou are {name}. This is round {round_} of {rounds}.\n\n"
        f"{earlier}Make your argument for your position, responding to the others' points."
    )


def verdict_prompt(topic: str, history: str) -> str:
    """What the judge is asked at the end."""
    return (
        f"Debate topic: {topic}\n\nThe full debate:\n{history}\n\n"
        "As the judge, weigh the arguments and give your decision with its reasons."
    )


def consensus_prompt(topic: str, history: str) -> str:
    """What the judge (or first participant) is asked after a round with require_consensus."""
    return (
        f"Debate topic: {topic}\n\nThe debate so far:\n{history}\n\n"
        "Have the participants reached consensus? If so, state the agreed position."
    )


class DebateWorkflow(BaseWorkflow):
    """Participants debate in round-robin order; an optional judge decides.

    Args:
        participants: ``(name, executor)`` pairs; each speaks once per round.
        judge: Decides at the end (and checks consensus with ``require_consensus``).
        config: Rounds, consensus and judging.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "debate"

    def __init__(
        self,
        participants: Sequence[tuple[str, Executor]],
        judge: Executor | None = None,
        config: DebateConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if len(participants) < 2:
            raise ValueError("DebateWorkflow needs at least two (name, executor) participants.")
        self.participants = list(participants)
        self.judge = judge
        self.config = config or DebateConfig()

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        turns: list[tuple[str, str]] = []
        state.metadata.update(consensus_reached=False, judge_decision=False)
        for round_ in range(1, config.max_rounds + 1):
            for name, executor in self.participants:
                prompt = argument_prompt(
                    state.input, name, round_, config.max_rounds, transcript(turns)
                )
                argument = await state.step(
                    executor, prompt, role="debater", agent=name, round=round_
                )
                turns.append((name, argument))
                state.output = transcript(turns)
            state.iterations = round_
            if config.require_consensus and round_ < config.max_rounds:
                checker = self.judge or self.participants[0][1]
                check = await state.decide(
                    checker,
                    consensus_prompt(state.input, transcript(turns)),
                    ConsensusCheck,
                    role="consensus_check",
                    fallback=lambda raw: ConsensusCheck(consensus_reached=False),
                    round=round_,
                )
                if check.consensus_reached:
                    state.metadata.update(
                        consensus_reached=True, agreed_position=check.agreed_position
                    )
                    break
        history = transcript(turns)
        state.metadata["transcript"] = [{"speaker": s, "argument": a} for s, a in turns]
        if self.judge is not None and config.judge_decides:
            verdict = await state.step(
                self.judge, verdict_prompt(state.input, history), role="judge"
            )
            state.metadata["judge_decision"] = True
            return verdict
        if state.metadata["consensus_reached"] and state.metadata.get("agreed_position"):
            return str(state.metadata["agreed_position"])
        return history
