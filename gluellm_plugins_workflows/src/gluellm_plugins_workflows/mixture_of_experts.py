"""Mixture of experts: route the query to some experts, run them concurrently, combine.

Cost: routing ``keyword``/``all``: no call; ``semantic``/``top_k``: one router call
(an `ExpertSelection` / `ExpertScores` decision). One call per consulted expert. Combining:
``concatenate``: none; ``synthesize``: one call; ``vote``: one call (a `BestAnswer`
decision). The router is ``router=``, by default the first expert's executor.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ExpertConfig, MoEConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import bullets, numbered

__all__ = [
    "BestAnswer",
    "ExpertConfig",
    "ExpertScore",
    "ExpertScores",
    "ExpertSelection",
    "MixtureOfExpertsWorkflow",
    "MoEConfig",
]


class ExpertSelection(BaseModel):
    """The router's choice of experts (semantic routing)."""

    experts: list[str] = Field(description="Specialties of the experts relevant to the query.")


class ExpertScore(BaseModel):
    """How relevant one expert is."""

    specialty: str
    score: float = Field(ge=0.0, le=1.0)


class ExpertScores(BaseModel):
    """The router's relevance scores (top_k routing)."""

    scores: list[ExpertScore]


class BestAnswer(BaseModel):
    """The best expert answer (vote combining)."""

    best: int = Field(ge=1, description="Number of the best answer (1-based).")
    reasoning: str = ""


def _catalog(experts: Sequence[ExpertConfig]) -> str:
    return bullets(f"{e.specialty}: {e.description}" for e in experts)


def expert_prompt(query: str, expert: ExpertConfig) -> str:
    """What an expert is asked."""
    return f"As an expert in {expert.specialty}, answer:\n\n{query}"


class MixtureOfExpertsWorkflow(BaseWorkflow):
    """Routed specialists, combined.

    Args:
        experts: The experts.
        config: Routing and combining strategies.
        router: Routes (semantic/top_k) and combines (synthesize/vote); by default the
            first expert's executor.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "mixture_of_experts"

    def __init__(
        self,
        experts: Sequence[ExpertConfig],
        config: MoEConfig | None = None,
        router: Executor | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if not experts:
            raise ValueError("MixtureOfExpertsWorkflow needs at least one ExpertConfig.")
        self.experts = list(experts)
        self.config = config or MoEConfig()
        self.router = router or self.experts[0].executor

    def _by_specialty(self, names: Sequence[str]) -> list[ExpertConfig]:
        wanted = {name.strip().casefold() for name in names}
        return [e for e in self.experts if e.specialty.casefold() in wanted]

    async def _route(self, state: WorkflowState) -> list[ExpertConfig]:
        strategy = self.config.routing_strategy
        query = state.input
        if strategy == "all":
            return self.experts
        if strategy == "keyword":
            words = set(re.findall(r"\w+", query.casefold()))
            chosen = [
                e
                for e in self.experts
                if any(
                    k.casefold() in words or (" " in k and k.casefold() in query.casefold())
                    for k in e.activation_keywords
                )
            ]
            if not chosen:
                state.metadata["routing_fallback"] = "no keyword matched: all experts consulted"
                return self.experts
            return chosen
        if strategy == "semantic":
            selection = await state.decide(
                self.router,
                f"Query: {query}\n\nExperts:\n{_catalog(self.experts)}\n\n"
                "Which experts' specialties are relevant to the query? Name them by specialty.",
                ExpertSelection,
                role="router",
                fallback=lambda raw: ExpertSelection(experts=[e.specialty for e in self.experts]),
            )
            chosen = self._by_specialty(selection.experts)
            if not chosen:
                state.metadata["routing_fallback"] = "router named no known expert: all consulted"
                return self.experts
            return chosen
        scores = await state.decide(
            self.router,
            f"Query: {query}\n\nExperts:\n{_catalog(self.experts)}\n\n"
            "Score every expert's relevance to the query from 0.0 to 1.0, by specialty.",
            ExpertScores,
            role="router",
            fallback=lambda raw: ExpertScores(scores=[]),
        )
        known = {e.specialty.casefold(): e for e in self.experts}
        ranked = sorted(
            (s for s in scores.scores if s.specialty.casefold() in known),
            key=lambda s: -s.score,
        )
        chosen = [known[s.specialty.casefold()] for s in ranked][: self.config.top_k]
        if not chosen:
            state.metadata["routing_fallback"] = "no usable scores: the first top_k experts"
            return self.experts[: self.config.top_k]
        return chosen

    def _ask(self, state: WorkflowState, expert: ExpertConfig) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            return await state.step(
                expert.executor,
                expert_prompt(state.input, expert),
                role="expert",
                specialty=expert.specialty,
            )

        return work

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        chosen = await self._route(state)
        state.metadata.update(
            routing_strategy=config.routing_strategy,
            selected_experts=[e.specialty for e in chosen],
            combine_strategy=config.combine_strategy,
        )
        answers = await state.parallel([self._ask(state, e) for e in chosen], config.max_parallel)
        state.iterations = 1
        labelled = [f"{e.specialty}: {a}" for e, a in zip(chosen, answers, strict=True)]
        state.output = "\n\n".join(labelled)
        if config.combine_strategy == "concatenate" or len(answers) == 1:
            return state.output if len(answers) > 1 else answers[0]
        if config.combine_strategy == "synthesize":
            return await state.step(
                self.router,
                f"Query: {state.input}\n\nExpert answers:\n{numbered(labelled)}\n\n"
                "Synthesize the experts' answers into one complete, consistent answer.",
                role="synthesizer",
            )
        vote = await state.decide(
            self.router,
            f"Query: {state.input}\n\nExpert answers:\n{numbered(labelled)}\n\n"
            "Which answer is best? Give its number.",
            BestAnswer,
            role="judge",
            fallback=lambda raw: BestAnswer(best=1, reasoning="fallback: first answer"),
        )
        best = vote.best if 1 <= vote.best <= len(answers) else 1
        state.metadata["best_expert"] = chosen[best - 1].specialty
        return answers[best - 1]
