"""The tool loop: ask the model, run the tools it asks for, repeat until it answers.

Also validates structured output and re-asks with the validation error, a bounded
number of times.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import attrs
import pydantic

from gluellm.call import Message, ModelCall, ModelResponse, Usage
from gluellm.errors import LLMError, MaxToolIterationsError, StructuredOutputError
from gluellm.pipeline import run_call
from gluellm.plugins import call_each
from gluellm.results import ToolExecutionResult
from gluellm.runtime import Runtime
from gluellm.tools import Tool, ToolExecution, execute_tool_call

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n```\s*$", re.DOTALL)


@attrs.frozen(kw_only=True)
class LoopOptions:
    """How one run of the loop behaves."""

    tools: Mapping[str, Tool]
    execute_tools: bool
    max_tool_iterations: int
    response_format: type[pydantic.BaseModel] | None
    structured_retries: int


@attrs.define
class _Run:
    """What a run has gathered so far."""

    executions: list[ToolExecution] = attrs.field(factory=list)
    usage: Usage | None = None
    last: ModelResponse | None = None

    def add(self, response: ModelResponse) -> None:
        self.last = response
        if response.usage is not None:
            self.usage = response.usage if self.usage is None else self.usage + response.usage

    def result(self, call: ModelCall, final_response: str, **extra: Any) -> ToolExecutionResult:
        return ToolExecutionResult(
            final_response=final_response,
            tool_calls_made=len(self.executions),
            tool_execution_history=[e.as_history_entry() for e in self.executions],
            raw_response=self.last.raw if self.last else None,
            tokens_used=self.usage.as_dict() if self.usage else None,
            model=call.model,
            correlation_id=call.correlation_id,
            **extra,
        )


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
    run = _Run()
    tool_rounds = validation_failures = 0
    while True:
        call = attrs.evolve(template, messages=[*system, *history])
        response = await run_call(call, runtime)
        run.add(response)
        if response.tool_calls:
            if not options.execute_tools:
                return _pending(run, call, response, options)
            if tool_rounds >= options.max_tool_iterations:
                raise MaxToolIterationsError(
                    f"The model still asked for tools after {tool_rounds} rounds "
                    f"(max_tool_iterations={options.max_tool_iterations}). Raise "
                    "max_tool_iterations, or check that the tools' results answer the request.",
                    result=run.result(call, response.content or ""),
                )
            tool_rounds += 1
            history.append(
                {
                    "role": "assistant",
                    "content": response.content,
                    "tool_calls": [request.as_message_part() for request in response.tool_calls],
                }
            )
            for execution in await _execute_all(response, options, call, runtime):
                run.executions.append(execution)
                history.append(execution.as_message())
            continue
        content = response.content or ""
        history.append({"role": "assistant", "content": content})
        if options.response_format is None:
            return run.result(call, content)
        try:
            parsed = options.response_format.model_validate_json(_strip_fence(content))
        except pydantic.ValidationError as error:
            validation_failures += 1
            if validation_failures > options.structured_retries:
                raise StructuredOutputError(
                    f"The answer did not validate against {options.response_format.__name__} "
                    f"after {validation_failures} attempts: {_summarize(error)}. The last raw "
                    "output is in .raw_output; raise GLUELLM_STRUCTURED_OUTPUT_MAX_RETRIES or "
                    "simplify the model.",
                    raw_output=content,
                    validation_error=str(error),
                    attempts=validation_failures,
                ) from error
            history.append({"role": "user", "content": _reask(options.response_format, error)})
            continue
        return run.result(call, content, structured_output=parsed)


async def _execute_all(
    response: ModelResponse, options: LoopOptions, call: ModelCall, runtime: Runtime
) -> list[ToolExecution]:
    executions = await asyncio.gather(
        *(
            execute_tool_call(request, options.tools, call.correlation_id)
            for request in response.tool_calls
        )
    )
    if runtime.plugin_manager.hook.on_tool_call.get_hookimpls():
        for execution in executions:
            call_each(runtime.plugin_manager, "on_tool_call", execution=execution)
    return executions


def _pending(
    run: _Run, call: ModelCall, response: ModelResponse, options: LoopOptions
) -> ToolExecutionResult:
    if options.response_format is not None:
        raise LLMError(
            "The model asked for tools but execute_tools=False, so no structured answer "
            f"was produced. Requested: {', '.join(r.name for r in response.tool_calls)}."
        )
    pending = []
    for request in response.tool_calls:
        try:
            arguments: Any = pydantic.TypeAdapter(dict[str, Any]).validate_json(request.arguments)
        except pydantic.ValidationError:
            arguments = request.arguments
        pending.append({"id": request.id, "tool_name": request.name, "arguments": arguments})
    return run.result(call, response.content or "", pending_tool_calls=pending)


def _strip_fence(text: str) -> str:
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
