"""The machinery every pattern shares: runs, steps, decisions, concurrency, budgets, events.

A workflow's `execute` runs inside ``run_group("workflow", name=<pattern>)``; each step
runs inside ``run_group("workflow_step", name=<agent>)`` nested under it, and the
step's API call nests under the step. So every model call's records and spans tie
back to the workflow, the workflow's run accumulates the usage and cost of all its
steps (read into the result), and a budget on the workflow bounds everything inside.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeVar

import pydantic
from pydantic import BaseModel

from gluellm.costs import Budget, check_budget
from gluellm.errors import BudgetExceededError, StructuredOutputError
from gluellm.runs import RunRequest, current_run, run_group
from gluellm_plugins_workflows.events import EventKind, StepEvent
from gluellm_plugins_workflows.executors import Executor, executor_name
from gluellm_plugins_workflows.result import WorkflowResult

__all__ = ["BaseWorkflow", "WorkflowState", "parse_model"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Emit = Callable[[StepEvent], None]

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_model(schema: type[M], text: str) -> M:
    """Validate ``text`` (a JSON object, maybe fenced or surrounded by prose) as ``schema``.

    Raises:
        pydantic.ValidationError: The text holds no valid ``schema`` object.
    """
    candidate = text.strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1)
    start, end = candidate.find("{"), candidate.rfind("}")
    if start != -1 and end > start:
        candidate = candidate[start : end + 1]
    return schema.model_validate_json(candidate)


def _usage_dict(run: RunRequest | None) -> dict[str, int] | None:
    usage = run.stats.usage if run is not None else None
    return usage.as_dict() if usage is not None else None


def _primary(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to raise for a failed group of steps: a budget stop first, else the first."""
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    for error in leaves:
        if isinstance(error, BudgetExceededError):
            return error
    for error in leaves:
        if not isinstance(error, asyncio.CancelledError):
            return error
    return leaves[0] if leaves else group


def with_context(initial_input: str, context: dict[str, Any]) -> str:
    """The task as the agents see it: ``initial_input``, then one line per context item.

    Strings are given as they are, anything else as JSON.
    """
    if not context:
        return initial_input
    lines = [
        f"- {key}: {value if isinstance(value, str) else json.dumps(value, default=str)}"
        for key, value in context.items()
    ]
    return initial_input + "\n\nContext:\n" + "\n".join(lines)


class WorkflowState:
    """One execution of a workflow: its steps, interactions, metadata and best output.

    Patterns receive it in `BaseWorkflow._run` and make every model call through
    `step` or `decide`, so each call is a nested run, an interaction and two events.

    Attributes:
        pattern: The workflow's registered name.
        input: The initial input, with the caller's context listed under it.
        context: The caller's context dict.
        interactions: One dict per step, in start order.
        metadata: Pattern facts; ``fallbacks`` lists decisions that used their fallback.
        iterations: The pattern's count of rounds completed.
        output: The best output so far; returned if the budget stops the workflow.
        run: The workflow's run (set when the workflow starts).
    """

    def __init__(
        self, pattern: str, initial_input: str, context: dict[str, Any], emit: Emit | None
    ) -> None:
        self.pattern = pattern
        self.input = initial_input
        self.context = context
        self.interactions: list[dict[str, Any]] = []
        self.metadata: dict[str, Any] = {}
        self.iterations = 0
        self.output = ""
        self.run: RunRequest | None = None
        self._emit = emit
        self._steps = 0

    # -- events ------------------------------------------------------------------------

    def emit(self, kind: EventKind, **fields: Any) -> None:
        """Send an event to the `BaseWorkflow.stream` reader, if there is one."""
        if self._emit is not None:
            self._emit(StepEvent(kind=kind, workflow=self.pattern, **fields))

    # -- steps -------------------------------------------------------------------------

    def check_budget(self) -> None:
        """Raise `BudgetExceededError` if this run (or an enclosing one) spent its budget."""
        spent = check_budget(current_run() or self.run)
        if spent is not None:
            _, reason = spent
            raise BudgetExceededError(
                f"Workflow {self.pattern!r} stopped before its next step: {reason}.",
                reason=reason,
            )

    async def run_step(
        self,
        agent: str,
        role: str,
        prompt: str,
        work: Callable[[], Awaitable[T]],
        render: Callable[[T], str],
        extra: dict[str, Any],
        recorded: list[dict[str, Any]] | None = None,
    ) -> T:
        """Run ``work`` as one step: a nested run, an interaction and its events.

        Args:
            agent: Who runs the step.
            role: What the step is for.
            prompt: What the step is given.
            work: Does the step.
            render: The step's output as text, for the interaction and event.
            extra: Pattern keys stored in the interaction (``stage``, ``round`` ...).
            recorded: Receives the step's interaction dict, for callers that add to it.
        """
        self.check_budget()
        self._steps += 1
        index = self._steps
        interaction: dict[str, Any] = {
            "step": index,
            "agent": agent,
            "role": role,
            **extra,
            "input": prompt,
            "output": None,
        }
        self.interactions.append(interaction)
        if recorded is not None:
            recorded.append(interaction)
        self.emit("step_started", step=index, agent=agent, role=role, input=prompt, extra=extra)

        async def body() -> tuple[T, RunRequest | None]:
            return await work(), current_run()

        try:
            value, step_run = await run_group(
                "workflow_step",
                body,
                name=agent,
                metadata={"workflow": self.pattern, "step": index, "role": role},
            )
        except BaseException as error:
            interaction["error"] = f"{type(error).__name__}: {error}"
            self.emit("step_failed", step=index, agent=agent, role=role, input=prompt, error=error)
            raise
        text = render(value)
        tokens = _usage_dict(step_run)
        cost = step_run.stats.estimated_cost_usd if step_run is not None else None
        interaction.update(output=text, tokens_used=tokens, estimated_cost_usd=cost)
        self.emit(
            "step_finished",
            step=index,
            agent=agent,
            role=role,
            input=prompt,
            output=text,
            tokens_used=tokens,
            estimated_cost_usd=cost,
            extra=extra,
        )
        return value

    async def step(
        self, executor: Executor, prompt: str, *, role: str, agent: str | None = None, **extra: Any
    ) -> str:
        """Ask ``executor`` for text; returns its answer.

        Args:
            executor: Who answers.
            prompt: The query.
            role: What the step is for (``producer``, ``critic`` ...).
            agent: The name to record; by default the executor's name.
            **extra: Keys stored in the step's interaction.
        """

        async def work() -> str:
            return await executor.execute(prompt)

        return await self.run_step(
            agent or executor_name(executor), role, prompt, work, lambda text: text, extra
        )

    async def decide(
        self,
        executor: Executor,
        prompt: str,
        schema: type[M],
        *,
        role: str,
        fallback: Callable[[str | None], M],
        agent: str | None = None,
        use_tools: bool = True,
        **extra: Any,
    ) -> M:
        """Ask ``executor`` for a decision shaped as ``schema`` (structured output).

        Executors with ``execute_structured`` answer through `structured_complete`
        (native JSON schema, bounded re-asks); others are asked for JSON text, which
        is parsed. An answer that never validates becomes ``fallback(raw_text)``, and
        the fallback is recorded in ``metadata["fallbacks"]``.

        Args:
            executor: Who decides.
            prompt: The question.
            schema: The decision's pydantic model.
            role: What the step is for.
            fallback: The decision to use instead, from the raw answer (or None).
            agent: The name to record; by default the executor's name.
            use_tools: Offer the executor's tools (False when the workflow runs them).
            **extra: Keys stored in the step's interaction.
        """
        failure: list[tuple[str, str | None]] = []
        structured = getattr(executor, "execute_structured", None)

        async def work() -> M:
            if structured is not None:
                try:
                    if use_tools:
                        answer: M = await structured(prompt, schema)
                    else:
                        answer = await structured(prompt, schema, use_tools=False)
                    return answer
                except StructuredOutputError as error:
                    failure.append((str(error), error.raw_output))
                    return fallback(error.raw_output)
            schema_text = json.dumps(schema.model_json_schema())
            text = await executor.execute(
                f"{prompt}\n\nAnswer with only a JSON object matching this JSON schema:\n"
                f"{schema_text}"
            )
            try:
                return parse_model(schema, text)
            except pydantic.ValidationError as error:
                failure.append((str(error), text))
                return fallback(text)

        name = agent or executor_name(executor)
        recorded: list[dict[str, Any]] = []
        value = await self.run_step(
            name,
            role,
            prompt,
            work,
            lambda v: v.model_dump_json(),
            {**extra, "decision": schema.__name__},
            recorded,
        )
        if failure:
            reason, raw = failure[0]
            recorded[0]["fallback"] = True
            self.metadata.setdefault("fallbacks", []).append(
                {
                    "step": recorded[0]["step"],
                    "agent": name,
                    "role": role,
                    "decision": schema.__name__,
                    "error": reason,
                    "raw_output": raw,
                    "used": value.model_dump(),
                }
            )
        return value

    async def parallel(
        self, works: Sequence[Callable[[], Awaitable[T]]], limit: int | None = None
    ) -> list[T]:
        """Run ``works`` concurrently, at most ``limit`` at once; results in input order.

        A failing step cancels the others (a `TaskGroup`); the error raised is the
        budget stop if one happened, else the first failure.
        """
        if not works:
            return []
        semaphore = asyncio.Semaphore(limit or len(works))
        results: list[Any] = [None] * len(works)

        async def one(index: int, work: Callable[[], Awaitable[T]]) -> None:
            async with semaphore:
                results[index] = await work()

        try:
            async with asyncio.TaskGroup() as group:
                for index, work in enumerate(works):
                    group.create_task(one(index, work))
        except BaseExceptionGroup as failed:
            raise _primary(failed) from None
        return results

    # -- result ------------------------------------------------------------------------

    def result(self, final_output: str, stop_reason: str = "completed") -> WorkflowResult:
        """The `WorkflowResult` now, usage and cost read from the workflow's run."""
        stats = self.run.stats if self.run is not None else None
        self.metadata["stop_reason"] = stop_reason
        return WorkflowResult(
            final_output=final_output,
            iterations=self.iterations,
            agent_interactions=self.interactions,
            metadata=self.metadata,
            tokens_used=_usage_dict(self.run),
            estimated_cost_usd=stats.estimated_cost_usd if stats is not None else None,
            model_calls=stats.model_calls if stats is not None else 0,
            stop_reason=stop_reason,
        )


class BaseWorkflow(abc.ABC):
    """Base class of every pattern: implement `_run`, set ``pattern``.

    Args:
        budget: Spending limit (cost and/or tokens) for the whole workflow; when it
            is reached the workflow stops before its next model turn and returns what
            it has, with ``stop_reason="budget_exceeded"``.
        eval_store: Where eval plugins record the workflow's run and its steps.
    """

    pattern: ClassVar[str] = "workflow"
    """The name the pattern is registered under."""

    def __init__(self, *, budget: Budget | None = None, eval_store: Any = None) -> None:
        self.budget = budget
        self.eval_store = eval_store

    @abc.abstractmethod
    async def _run(self, state: WorkflowState) -> str:
        """Do the pattern's steps through ``state``; return the final output.

        Keep ``state.output`` at the best output so far and ``state.iterations`` current:
        a budget stop returns them.
        """

    async def execute(
        self,
        initial_input: str,
        context: dict[str, Any] | None = None,
        *,
        budget: Budget | None = None,
    ) -> WorkflowResult:
        """Run the workflow on ``initial_input``.

        Args:
            initial_input: The task, topic or document.
            context: Facts every agent should know (audience, constraints, data): listed
                under the task as ``Context:`` lines, which is what the patterns send as
                the input; custom patterns also find the dict in ``state.context``.
            budget: Spending limit for this execution, instead of the workflow's.

        Raises:
            ValueError: ``initial_input`` is empty.
            LLMError: A step failed (after its retries); budget stops are not errors.
        """
        return await self._execute(initial_input, context, budget, None)

    async def stream(
        self,
        initial_input: str,
        context: dict[str, Any] | None = None,
        *,
        budget: Budget | None = None,
    ) -> AsyncIterator[StepEvent]:
        """Run the workflow, yielding a `StepEvent` as each step starts and finishes.

        The last event is ``workflow_finished`` with the result. Stopping early (closing
        the iterator) cancels the workflow and its in-flight steps.
        """
        queue: asyncio.Queue[StepEvent | None] = asyncio.Queue()
        task = asyncio.ensure_future(
            self._execute(initial_input, context, budget, queue.put_nowait)
        )
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            task.result()  # a failed workflow raises here, after its events
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _execute(
        self,
        initial_input: str,
        context: dict[str, Any] | None,
        budget: Budget | None,
        emit: Emit | None,
    ) -> WorkflowResult:
        if not isinstance(initial_input, str) or not initial_input.strip():
            raise ValueError(
                f"initial_input must be a non-empty string, got {initial_input!r}. Pass the "
                "task, topic or document the workflow should work on."
            )
        context = dict(context or {})
        state = WorkflowState(self.pattern, with_context(initial_input, context), context, emit)

        async def body() -> WorkflowResult:
            state.run = current_run()
            try:
                output = await self._run(state)
            except BudgetExceededError as error:
                state.metadata["budget_reason"] = error.reason
                return state.result(state.output, "budget_exceeded")
            return state.result(output)

        result = await run_group(
            "workflow",
            body,
            name=self.pattern,
            budget=budget or self.budget,
            eval_store=self.eval_store,
            metadata={"pattern": self.pattern},
        )
        state.emit("workflow_finished", result=result, tokens_used=result.tokens_used)
        return result
