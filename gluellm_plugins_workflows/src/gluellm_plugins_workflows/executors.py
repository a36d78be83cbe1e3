"""Executors: what a workflow step calls. Each one runs through the normal API.

`SimpleExecutor` and `AgentExecutor` call `gluellm.api.complete` (and
`structured_complete` for decisions), so retries, rate limits, eval recording, tracing
and budgets apply to every step exactly as to any other call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

if TYPE_CHECKING:
    from gluellm.models.agent import Agent

T = TypeVar("T", bound=BaseModel)

__all__ = ["AgentExecutor", "Executor", "SimpleExecutor", "StructuredExecutor", "executor_name"]


@runtime_checkable
class Executor(Protocol):
    """Anything a workflow can ask: ``await executor.execute(query) -> str``."""

    async def execute(self, query: str) -> str:
        """Answer ``query`` with text."""
        ...


@runtime_checkable
class StructuredExecutor(Executor, Protocol):
    """An executor that can also answer with a validated pydantic model.

    Workflows ask their decisions (scores, votes, routes, plans) this way. An executor
    without this method is asked with `execute` and its text parsed as JSON.
    """

    async def execute_structured(
        self, query: str, response_format: type[T], *, use_tools: bool = True
    ) -> T:
        """Answer ``query`` with a ``response_format`` instance.

        Args:
            query: The question.
            response_format: The pydantic model the answer must validate against.
            use_tools: Offer the executor's tools (False when the workflow runs them).
        """
        ...


def executor_name(executor: object) -> str:
    """The name a workflow records for ``executor``: its ``name``, else its class."""
    name = getattr(executor, "name", None)
    return name if isinstance(name, str) and name else type(executor).__name__


class SimpleExecutor:
    """Direct LLM execution: a model, a system prompt and tools, without an `Agent`.

    Args:
        model: ``provider:model``; defaults to ``GLUELLM_DEFAULT_MODEL``.
        system_prompt: Instructions; defaults to ``GLUELLM_DEFAULT_SYSTEM_PROMPT``.
        tools: Functions (sync or async) the model may call.
        max_tool_iterations: Rounds of tool calls per query.
        name: The name workflows record for this executor.
        **params: Model parameters for every call (``temperature``, ``max_tokens`` ...).
    """

    def __init__(
        self,
        model: str | None = None,
        system_prompt: str | None = None,
        tools: Sequence[Callable[..., Any]] | None = None,
        max_tool_iterations: int | None = None,
        *,
        name: str | None = None,
        **params: Any,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.tools = list(tools or ())
        self.max_tool_iterations = max_tool_iterations
        self.name = name or f"SimpleExecutor({model or 'default model'})"
        self.params = params

    def __repr__(self) -> str:
        return f"SimpleExecutor(model={self.model!r}, name={self.name!r})"

    async def execute(self, query: str) -> str:
        """Run ``query`` through `gluellm.api.complete` (tool loop included)."""
        from gluellm.api import complete

        result = await complete(
            query,
            model=self.model,
            system_prompt=self.system_prompt,
            tools=self.tools,
            max_tool_iterations=self.max_tool_iterations,
            **self.params,
        )
        return result.final_response

    async def execute_structured(
        self, query: str, response_format: type[T], *, use_tools: bool = True
    ) -> T:
        """Run ``query`` through `gluellm.api.structured_complete` (bounded re-asks)."""
        from gluellm.api import structured_complete

        return await structured_complete(
            query,
            response_format,
            model=self.model,
            system_prompt=self.system_prompt,
            tools=self.tools if use_tools else None,
            max_tool_iterations=self.max_tool_iterations,
            **self.params,
        )


class AgentExecutor(SimpleExecutor):
    """Execute queries with a pre-configured `Agent` (its model, prompt and tools).

    Args:
        agent: The agent to run.
        **params: Model parameters for every call (``temperature`` ...).
    """

    def __init__(self, agent: Agent, **params: Any) -> None:
        super().__init__(
            model=agent.model,
            system_prompt=agent.system_prompt.content,
            tools=agent.tools,
            max_tool_iterations=agent.max_tool_iterations,
            name=agent.name,
            **params,
        )
        self.agent = agent

    def __repr__(self) -> str:
        return f"AgentExecutor(agent={self.agent.name!r})"
