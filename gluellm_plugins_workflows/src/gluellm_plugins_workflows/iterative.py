"""Iterative refinement: a producer drafts, critics review in parallel, the producer revises.

Cost: ``(1 + len(critics))`` model calls per iteration, at most ``max_iterations``
iterations. Critics answer with a `CriticFeedback` (feedback and a 0-1 score); the
quality of a draft is the weighted mean of the critics' scores, or what
``quality_evaluator(content, feedback)`` says.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import CriticConfig, IterativeConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["CriticConfig", "CriticFeedback", "IterativeConfig", "IterativeRefinementWorkflow"]


class CriticFeedback(BaseModel):
    """A critic's review of a draft."""

    feedback: str = Field(description="Specific, actionable feedback on the draft.")
    score: float = Field(ge=0.0, le=1.0, description="Quality of the draft from 0.0 to 1.0.")


def critic_prompt(task: str, draft: str, critic: CriticConfig) -> str:
    """What a critic is asked."""
    return (
        f"You are a critic specializing in {critic.specialty}. Your goal: {critic.goal}.\n\n"
        f"Task the content was written for:\n{task}\n\n"
        f"Content to review:\n{draft}\n\n"
        "Give specific, actionable feedback within your specialty, and score the content's "
        "quality from 0.0 (unusable) to 1.0 (nothing to improve)."
    )


def revision_prompt(task: str, draft: str, feedback: dict[str, str]) -> str:
    """What the producer is asked after the first draft."""
    notes = "\n".join(f"- [{specialty}] {text}" for specialty, text in feedback.items())
    return (
        f"Task:\n{task}\n\nYour current draft:\n{draft}\n\n"
        f"Feedback from the critics:\n{notes}\n\n"
        "Revise the draft to address the feedback. Reply with the full revised content only."
    )


class IterativeRefinementWorkflow(BaseWorkflow):
    """Producer, parallel critics, revision; until quality, convergence or max_iterations.

    Args:
        producer: Writes and revises the content.
        critics: The critics; all review each draft concurrently.
        config: Iterations and early stopping.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "iterative"

    def __init__(
        self,
        producer: Executor,
        critics: Sequence[CriticConfig],
        config: IterativeConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if not critics:
            raise ValueError("IterativeRefinementWorkflow needs at least one CriticConfig.")
        self.producer = producer
        self.critics = list(critics)
        self.config = config or IterativeConfig()

    async def _quality(self, draft: str, reviews: list[CriticFeedback]) -> float:
        feedback = {c.specialty: r.feedback for c, r in zip(self.critics, reviews, strict=True)}
        evaluator = self.config.quality_evaluator
        if evaluator is not None:
            score = evaluator(draft, feedback)
            if inspect.isawaitable(score):
                score = await score
            return float(score)
        total = sum(c.weight for c in self.critics) or 1.0
        return sum(c.weight * r.score for c, r in zip(self.critics, reviews, strict=True)) / total

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        scores: list[float] = []
        state.metadata.update(converged=False, quality_scores=scores)
        draft = ""
        feedback: dict[str, str] = {}
        for iteration in range(1, config.max_iterations + 1):
            prompt = (
                state.input if iteration == 1 else revision_prompt(state.input, draft, feedback)
            )
            draft = await state.step(self.producer, prompt, role="producer", iteration=iteration)
            state.output = draft
            state.iterations = iteration
            reviews = await state.parallel(
                [self._review(state, critic, draft, iteration) for critic in self.critics],
                config.max_parallel_critics,
            )
            feedback = {c.specialty: r.feedback for c, r in zip(self.critics, reviews, strict=True)}
            quality = await self._quality(draft, reviews)
            scores.append(quality)
            state.metadata["final_quality_score"] = quality
            if config.min_quality_score is not None and quality >= config.min_quality_score:
                state.metadata.update(converged=True, converged_because="min_quality_score")
                break
            if (
                config.convergence_threshold is not None
                and len(scores) > 1
                and abs(scores[-1] - scores[-2]) < config.convergence_threshold
            ):
                state.metadata.update(converged=True, converged_because="convergence_threshold")
                break
        state.metadata["feedback"] = feedback
        return draft

    def _review(
        self, state: WorkflowState, critic: CriticConfig, draft: str, iteration: int
    ) -> Callable[[], Awaitable[CriticFeedback]]:
        async def review() -> CriticFeedback:
            return await state.decide(
                critic.executor,
                critic_prompt(state.input, draft, critic),
                CriticFeedback,
                role="critic",
                fallback=lambda raw: CriticFeedback(feedback=raw or "", score=0.0),
                iteration=iteration,
                specialty=critic.specialty,
            )

        return review
