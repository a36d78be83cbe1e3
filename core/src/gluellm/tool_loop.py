"""The tool loop: ask the model, run the tools it asks for, repeat until it answers.

Also validates structured output and re-asks with the validation error, a bounded
number of times.

The decisions made after each model turn live in `LoopState`, shared by this
non-streaming loop and the streaming one (`gluellm.streaming`), so both follow the
same rules: the same ``max_tool_iterations`` limit, the same history, the same re-ask.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import pydantic

from gluellm.call import Message, ModelCall, ModelResponse, ToolCallRequest, Usage
from gluellm.costs import check_budget
from gluellm.errors import (
    BudgetExceededError,
    LLMError,
    MaxToolIterationsError,
    StructuredOutputError,
)
from gluellm.pipeline import run_call
from gluellm.plugins import call_each
from gluellm.results import ToolExecutionResult
from gluellm.runtime import Runtime
from gluellm.tools import Tool, ToolExecution, execute_tool_call

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n```\s*$", re.DOTALL)


# slots=False: built on every call, and a frozen class with a __dict__ builds faster.
@attrs.frozen(kw_only=True, slots=False)
class LoopOptions:
    """How one run of the loop behaves."""

    tools: Mapping[str, Tool]
    execute_tools: bool
    max_tool_iterations: int
    response_format: type[pydantic.BaseModel] | None
    structured_retries: int


@attrs.define
class LoopState:
    """One run of the loop: what it has gathered and what it decides after each turn.

    Args:
        template: The call to make each turn; its messages are replaced every turn.
        system: Messages that lead every request (the system prompt).
        history: The conversation so far, ending with the new user message; every new
            message of the run is appended to it.
        options: Tools and limits.
    """

    template: ModelCall
    system: list[Message]
    history: list[Message]
    options: LoopOptions
    executions: list[ToolExecution] = attrs.field(factory=list)
    usage: Usage | None = None
    cost: float | None = None
    last: ModelResponse | None = None
    tool_rounds: int = 0
    validation_failures: int = 0
    _turns: int = 0

    def next_call(self) -> ModelCall:
        """The call for the next turn: the template with the whole conversation.

        Raises:
            BudgetExceededError: The run (or a run enclosing it) has spent its budget;
                the error carries the result so far.
        """
        call = self.template.with_messages([*self.system, *self.history])
        spent = check_budget(call.run)
        if spent is not None:
            run, reason = spent
            whose = "this run" if run is call.run else f"the enclosing {run.operation} run"
            raise BudgetExceededError(
                f"Stopped before model turn {self.turns + 1}: {reason} of {whose} "
                f"(correlation ID {call.correlation_id}). The partial result is in .result; "
                "raise the budget to let the run go on.",
                reason=reason,
                result=self.result(call, (self.last.content or "") if self.last else ""),
            )
        return call

    @property
    def turns(self) -> int:
        """Model turns finished so far."""
        return self._turns

    def after_turn(self, call: ModelCall, response: ModelResponse) -> ToolExecutionResult | None:
        """Record a finished turn and decide what comes next.

        Returns:
            The run's result when it is over. None when it goes on: with
            ``response.tool_calls`` the caller runs them (and `record`s each execution)
            before the next turn; without, the model was re-asked for valid output.

        Raises:
            MaxToolIterationsError: The model still wanted tools after the limit.
            StructuredOutputError: The answer never validated against ``response_format``.
            LLMError: Tools were requested, not executed, and structured output was asked for.
        """
        self._add(response)
        if response.tool_calls:
            if not self.options.execute_tools:
                return self._pending(call, response)
            if self.tool_rounds >= self.options.max_tool_iterations:
                raise MaxToolIterationsError(
                    f"The model still asked for tools after {self.tool_rounds} rounds "
                    f"(max_tool_iterations={self.options.max_tool_iterations}). Raise "
                    "max_tool_iterations, or check that the tools' results answer the request.",
                    result=self.result(call, response.content or ""),
                )
            self.tool_rounds += 1
            self.history.append(
                {
                    "role": "assistant",
                    "content": response.content,
                    "tool_calls": [request.as_message_part() for request in response.tool_calls],
                }
            )
            return None
        content = response.content or ""
        self.history.append({"role": "assistant", "content": content})
        response_format = self.options.response_format
        if response_format is None:
            return self.result(call, content)
        try:
            parsed = response_format.model_validate_json(strip_fence(content))
        except pydantic.ValidationError as error:
            self.validation_failures += 1
            if self.validation_failures > self.options.structured_retries:
                raise StructuredOutputError(
                    f"The answer did not validate against {response_format.__name__} "
                    f"after {self.validation_failures} attempts: {_summarize(error)}. The last "
                    "raw output is in .raw_output; raise GLUELLM_STRUCTURED_OUTPUT_MAX_RETRIES "
                    "or simplify the model.",
                    raw_output=content,
                    validation_error=str(error),
                    attempts=self.validation_failures,
                ) from error
            self.history.append({"role": "user", "content": _reask(response_format, error)})
            return None
        return self.result(call, content, structured_output=parsed)

    def record(self, executions: Iterable[ToolExecution]) -> None:
        """Add tool executions (in the order the model asked for them) to the run."""
        for execution in executions:
            self.executions.append(execution)
            self.history.append(execution.as_message())

    def result(self, call: ModelCall, final_response: str, **extra: Any) -> ToolExecutionResult:
        """The run's summary so far."""
        return ToolExecutionResult(
            final_response=final_response,
            tool_calls_made=len(self.executions),
            tool_execution_history=[e.as_history_entry() for e in self.executions],
            raw_response=self.last.raw if self.last else None,
            tokens_used=self.usage.as_dict() if self.usage else None,
            estimated_cost_usd=self.cost,
            finish_reason=self.last.finish_reason if self.last else None,
            model=call.model,
            correlation_id=call.correlation_id,
            **extra,
        )

    def _add(self, response: ModelResponse) -> None:
        self.last = response
        self._turns += 1
        if response.usage is not None:
            self.usage = response.usage if self.usage is None else self.usage + response.usage
        if response.estimated_cost_usd is not None:
            self.cost = (self.cost or 0.0) + response.estimated_cost_usd

    def _pending(self, call: ModelCall, response: ModelResponse) -> ToolExecutionResult:
        if self.options.response_format is not None:
            raise LLMError(
                "The model asked for tools but execute_tools=False, so no structured answer "
                f"was produced. Requested: {', '.join(r.name for r in response.tool_calls)}."
            )
        pending = []
        for request in response.tool_calls:
            try:
                arguments: Any = pydantic.TypeAdapter(dict[str, Any]).validate_json(
                    request.arguments
                )
            except pydantic.ValidationError:
                arguments = request.arguments
            pending.append({"id": request.id, "tool_name": request.name, "arguments": arguments})
        return self.result(call, response.content or "", pending_tool_calls=pending)


async def run_tool_loop(
    template: ModelCall,
    system: list[Message],
    history: list[Message],
    options: LoopOptions,
    runtime: Runtime,
) -> ToolExecutionResult:
    """Run the loop; append every new message to ``history``.

    Args:
        template: The call to make each turn; its messages are replaced every turn.
        system: Messages that lead every request (the system prompt).
        history: The conversation so far, ending with the new user message.
        options: Tools and limits.
        runtime: Where transports and plugins come from.

    Raises:
        MaxToolIterationsError: The model still wanted tools after the limit.
        StructuredOutputError: The answer never validated against ``response_format``.
    """
    state = LoopState(template, system, history, options)
    while True:
        call = state.next_call()
        response = await run_call(call, runtime)
        result = state.after_turn(call, response)
        if result is not None:
            return result
        if response.tool_calls:
            state.record(await execute_all(response.tool_calls, options, call, runtime))


async def execute_all(
    requests: Sequence[ToolCallRequest], options: LoopOptions, call: ModelCall, runtime: Runtime
) -> list[ToolExecution]:
    """Run one turn's tool calls concurrently and tell ``on_tool_call`` observers."""
    executions = await asyncio.gather(
        *(
            execute_tool_call(
                request, options.tools, call.correlation_id, runtime=runtime, run=call.run
            )
            for request in requests
        )
    )
    notify_tool_calls(executions, runtime, call)
    return executions


def notify_tool_calls(
    executions: Sequence[ToolExecution], runtime: Runtime, call: ModelCall
) -> None:
    """Count finished executions in the run; tell ``on_tool_call`` observers (errors logged)."""
    run = call.run
    while run is not None:
        run.stats.tool_calls += len(executions)
        run = run.parent
    if runtime.implements("on_tool_call"):
        for execution in executions:
            call_each(runtime.plugin_manager, "on_tool_call", execution=execution, runtime=runtime)


def strip_fence(text: str) -> str:
    """The answer without surrounding whitespace and Markdown code fence, if any."""
    text = text.strip()
    match = _FENCE.match(text)
    return match.group(1) if match else text


def _summarize(error: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in error.errors()
    )


def _reask(response_format: type[pydantic.BaseModel], error: pydantic.ValidationError) -> str:
    return (
        f"Your answer did not match the required {response_format.__name__} JSON schema: "
        f"{_summarize(error)}. Reply again with only a JSON object that matches the schema."
    )
