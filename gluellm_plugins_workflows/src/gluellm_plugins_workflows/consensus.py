"""Consensus: agents propose, vote (a `Vote` decision), and revise until enough agree.

Cost per round: one proposal and one vote per agent (both phases run concurrently),
at most ``max_rounds`` rounds: ``2 * len(proposers) * rounds``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ConsensusConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import numbered

__all__ = ["ConsensusConfig", "ConsensusWorkflow", "Vote", "tally"]


class Vote(BaseModel):
    """One agent's vote on the proposals."""

    proposal: int = Field(
        ge=0, description="The number of the best proposal (1-based); 0 abstains."
    )
    confidence: float = Field(default=1.0, ge=0.0, le=1.0, description="How sure, 0.0 to 1.0.")
    reasoning: str = ""


def propose_prompt(task: str, name: str) -> str:
    """What an agent is asked in the first round."""
    return f"Task: {task}\n\nYou are {name}. Propose your solution."


def revise_prompt(task: str, name: str, proposals: list[str], votes: str) -> str:
    """What an agent is asked in later rounds."""
    return (
        f"Task: {task}\n\nYou are {name}. The proposals so far:\n{numbered(proposals)}\n\n"
        f"Votes: {votes}\n\nNo proposal has enough agreement yet. Revise your proposal to "
        "move towards a solution the group can agree on."
    )


def vote_prompt(task: str, name: str, proposals: list[str], abstain: bool) -> str:
    """What an agent is asked when voting."""
    option = " Vote 0 to abstain." if abstain else ""
    return (
        f"Task: {task}\n\nYou are {name}. Proposals:\n{numbered(proposals)}\n\n"
        f"Vote for the best proposal by number (1-{len(proposals)}), with your confidence.{option}"
    )


def tally(votes: Sequence[Vote], strategy: str) -> tuple[int, float]:
    """The leading proposal (1-based; 0 when nobody voted) and its agreement ratio.

    ``majority``: share of the cast votes; ``weighted``: share of the summed confidence;
    ``unanimous``: 1.0 when every cast vote names the leader, else 0.0.
    """
    cast = [v for v in votes if v.proposal > 0]
    if not cast:
        return 0, 0.0
    if strategy == "weighted":
        weights: dict[int, float] = {}
        for vote in cast:
            weights[vote.proposal] = weights.get(vote.proposal, 0.0) + vote.confidence
        leader, weight = max(weights.items(), key=lambda item: (item[1], -item[0]))
        total = sum(weights.values())
        return leader, (weight / total if total else 0.0)
    counts = Counter(v.proposal for v in cast)
    leader, count = max(counts.items(), key=lambda item: (item[1], -item[0]))
    if strategy == "unanimous":
        return leader, 1.0 if count == len(cast) else 0.0
    return leader, count / len(cast)


class ConsensusWorkflow(BaseWorkflow):
    """Proposals and votes until the agreement threshold is met or rounds run out.

    Args:
        proposers: ``(name, executor)`` pairs; each proposes and votes every round.
        config: Threshold, rounds and voting strategy.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "consensus"

    def __init__(
        self,
        proposers: Sequence[tuple[str, Executor]],
        config: ConsensusConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if len(proposers) < 2:
            raise ValueError("ConsensusWorkflow needs at least two (name, executor) proposers.")
        self.proposers = list(proposers)
        self.config = config or ConsensusConfig()

    def _proposal(
        self, state: WorkflowState, name: str, executor: Executor, prompt: str, round_: int
    ) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            return await state.step(executor, prompt, role="proposer", agent=name, round=round_)

        return work

    def _vote(
        self, state: WorkflowState, name: str, executor: Executor, proposals: list[str], round_: int
    ) -> Callable[[], Awaitable[Vote]]:
        abstain = self.config.allow_abstention

        async def work() -> Vote:
            vote = await state.decide(
                executor,
                vote_prompt(state.input, name, proposals, abstain),
                Vote,
                role="voter",
                agent=name,
                fallback=lambda raw: Vote(proposal=0, confidence=0.0, reasoning=raw or ""),
                round=round_,
            )
            if vote.proposal > len(proposals) or (vote.proposal == 0 and not abstain):
                state.metadata.setdefault("invalid_votes", []).append(
                    {"round": round_, "agent": name, "proposal": vote.proposal}
                )
                return Vote(proposal=0, confidence=0.0, reasoning=vote.reasoning)
            return vote

        return work

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        proposals: list[str] = []
        summary = ""
        rounds: list[dict[str, Any]] = []
        state.metadata.update(consensus_reached=False, rounds=rounds)
        for round_ in range(1, config.max_rounds + 1):
            prompts = [
                propose_prompt(state.input, name)
                if round_ == 1
                else revise_prompt(state.input, name, proposals, summary)
                for name, _ in self.proposers
            ]
            proposals = await state.parallel(
                [
                    self._proposal(state, name, executor, prompt, round_)
                    for (name, executor), prompt in zip(self.proposers, prompts, strict=True)
                ],
                config.max_parallel,
            )
            state.output = proposals[0]
            votes = await state.parallel(
                [self._vote(state, n, e, proposals, round_) for n, e in self.proposers],
                config.max_parallel,
            )
            leader, ratio = tally(votes, config.voting_strategy)
            state.iterations = round_
            if leader:
                state.output = proposals[leader - 1]
            summary = ", ".join(
                f"{name} -> {vote.proposal or 'abstained'}"
                for (name, _), vote in zip(self.proposers, votes, strict=True)
            )
            rounds.append({"round": round_, "leader": leader, "agreement": ratio, "votes": summary})
            state.metadata.update(agreement_ratio=ratio, winning_proposal=leader)
            if leader and ratio >= config.min_agreement_ratio:
                state.metadata.update(consensus_reached=True, winner=self.proposers[leader - 1][0])
                return proposals[leader - 1]
        return state.output
