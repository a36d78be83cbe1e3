"""Protocols shared by core, plugins and users: eval stores and workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord


@runtime_checkable
class EvalStore(Protocol):
    """Where eval records go: implement both methods (``GlueLLM(eval_store=...)``).

    The eval plugin calls ``record`` from a background task, never on the caller's
    path, and logs (never raises) what ``record`` raises.
    """

    async def record(self, record: EvalRecord) -> None:
        """Store one record."""
        ...

    async def close(self) -> None:
        """Flush and release resources; no ``record`` call follows."""
        ...


@runtime_checkable
class Workflow(Protocol):
    """A multi-agent pattern: takes an input, returns a result (``register_workflows``).

    Implementations run their steps through the normal API inside
    `gluellm.runs.run_group`, so every step is a run nested under the workflow's run.
    """

    async def execute(self, initial_input: str, context: dict[str, Any] | None = None) -> Any:
        """Run the workflow on ``initial_input``; return its result."""
        ...
