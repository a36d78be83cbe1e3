"""The one result type every pattern returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["WorkflowResult"]


class WorkflowResult(BaseModel):
    """What a workflow produced.

    Attributes:
        final_output: The workflow's answer (what it had, when it stopped early).
        iterations: Rounds, stages or steps completed (the pattern's own unit).
        agent_interactions: One dict per step, in the order the steps started:
            ``step``, ``agent``, ``role``, ``input``, ``output``, ``tokens_used``,
            ``estimated_cost_usd`` and pattern-specific keys (``stage``, ``round`` ...).
        metadata: Pattern-specific facts (``converged``, ``consensus_reached`` ...),
            ``fallbacks`` (decisions that did not come back in shape) and
            ``stop_reason``.
        tokens_used: Tokens summed over every step (``prompt``, ``completion``,
            ``total``), or None when no provider reported any.
        estimated_cost_usd: Cost summed over every step, when prices are known.
        model_calls: Model requests made by all steps (re-asks included).
        stop_reason: ``completed``, or ``budget_exceeded`` when the workflow's budget
            stopped it (``metadata["budget_reason"]`` says which limit).
    """

    final_output: str
    iterations: int = 0
    agent_interactions: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    tokens_used: dict[str, int] | None = None
    estimated_cost_usd: float | None = None
    model_calls: int = 0
    stop_reason: str = "completed"

    @property
    def completed(self) -> bool:
        """Whether the workflow ran to its end (not stopped by its budget)."""
        return self.stop_reason == "completed"
