"""Constitutional: generate, check against principles (a `PrincipleReview`), revise.

Cost: one draft, one check, then per revision one revision and one check:
at most ``2 + 2 * max_revisions`` calls.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ConstitutionalConfig, Principle
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import bullets

__all__ = [
    "ConstitutionalConfig",
    "ConstitutionalWorkflow",
    "Principle",
    "PrincipleCheck",
    "PrincipleReview",
]

_RANK = {"critical": 0, "error": 1, "warning": 2}


class PrincipleCheck(BaseModel):
    """The verdict on one principle."""

    principle: str = Field(description="The principle's name.")
    passed: bool
    issue: str = Field(default="", description="What violates it, when it fails.")


class PrincipleReview(BaseModel):
    """The critic's verdicts on every principle."""

    checks: list[PrincipleCheck]


def check_prompt(task: str, content: str, principles: list[Principle]) -> str:
    """What the critic is asked."""
    listing = bullets(f"{p.name} ({p.severity}): {p.description}" for p in principles)
    return (
        f"Task: {task}\n\nContent:\n{content}\n\nPrinciples:\n{listing}\n\n"
        "Check the content against every principle; for each, say whether it passes and, "
        "if not, what violates it."
    )


def revise_prompt(task: str, content: str, violations: list[tuple[Principle, str]]) -> str:
    """What the generator is asked to fix."""
    listing = bullets(f"{p.name} ({p.severity}): {issue}" for p, issue in violations)
    return (
        f"Task: {task}\n\nYour content:\n{content}\n\nIt violates these principles:\n{listing}\n\n"
        "Revise it so it satisfies every principle while still doing the task. Reply with "
        "the revised content only."
    )


class ConstitutionalWorkflow(BaseWorkflow):
    """Principle-guided critique and revision.

    Args:
        generator: Writes and revises.
        critic: Checks the principles; by default the generator.
        config: Principles, revision bound and pass rule.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "constitutional"

    def __init__(
        self,
        generator: Executor,
        critic: Executor | None = None,
        config: ConstitutionalConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if config is None:
            raise ValueError(
                "ConstitutionalWorkflow needs config=ConstitutionalConfig(principles=[...])."
            )
        self.generator = generator
        self.critic = critic or generator
        self.config = config

    async def _check(
        self, state: WorkflowState, content: str, revision: int
    ) -> list[tuple[Principle, str]] | None:
        """The blocking violations, most severe first; None when the check failed."""
        principles = self.config.principles
        review = await state.decide(
            self.critic,
            check_prompt(state.input, content, principles),
            PrincipleReview,
            role="critic",
            fallback=lambda raw: PrincipleReview(checks=[]),
            revision=revision,
        )
        verdicts = {c.principle.strip().casefold(): c for c in review.checks}
        if not verdicts:
            return None
        violations = []
        for principle in principles:
            check = verdicts.get(principle.name.casefold())
            if check is not None and not check.passed:
                violations.append((principle, check.issue or "violated"))
        state.metadata["violations"] = [
            {"principle": p.name, "severity": p.severity, "issue": issue} for p, issue in violations
        ]
        blocking = [
            v for v in violations if self.config.require_all_pass or v[0].severity == "critical"
        ]
        return sorted(blocking, key=lambda v: _RANK[v[0].severity])

    async def _run(self, state: WorkflowState) -> str:
        content = await state.step(self.generator, state.input, role="generator", revision=0)
        state.output = content
        state.metadata.update(passed=False, revisions=0)
        blocking = await self._check(state, content, 0)
        for revision in range(1, self.config.max_revisions + 1):
            if blocking is None:
                state.metadata["check_failed"] = True
                break
            if not blocking:
                break
            content = await state.step(
                self.generator,
                revise_prompt(state.input, content, blocking),
                role="generator",
                revision=revision,
            )
            state.output = content
            state.iterations = revision
            state.metadata["revisions"] = revision
            blocking = await self._check(state, content, revision)
        state.metadata["passed"] = blocking == []
        return content
