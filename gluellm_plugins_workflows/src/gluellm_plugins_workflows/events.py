"""Step events: what `BaseWorkflow.stream` yields while a workflow runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

if TYPE_CHECKING:
    from gluellm_plugins_workflows.result import WorkflowResult

__all__ = ["EventKind", "StepEvent"]

EventKind: TypeAlias = Literal["step_started", "step_finished", "step_failed", "workflow_finished"]


@attrs.frozen(kw_only=True)
class StepEvent:
    """One thing that happened in a workflow.

    Attributes:
        kind: ``step_started``, ``step_finished``, ``step_failed`` or
            ``workflow_finished`` (the last event; carries ``result``).
        workflow: The pattern's name.
        step: The step's number (1-based, in start order); 0 for ``workflow_finished``.
        agent: Who ran the step.
        role: What the step was for (``producer``, ``critic``, ``judge`` ...).
        input: The prompt sent.
        output: The answer (``step_finished``).
        tokens_used: The step's tokens (``step_finished``), or the workflow's total.
        estimated_cost_usd: The step's cost when known.
        error: What failed (``step_failed``).
        result: The workflow's result (``workflow_finished``).
    """

    kind: EventKind
    workflow: str
    step: int = 0
    agent: str | None = None
    role: str | None = None
    input: str | None = attrs.field(default=None, repr=False)
    output: str | None = attrs.field(default=None, repr=False)
    tokens_used: dict[str, int] | None = None
    estimated_cost_usd: float | None = None
    error: BaseException | None = None
    result: WorkflowResult | None = attrs.field(default=None, repr=False)
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)
