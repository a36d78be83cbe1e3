"""Tools: Python functions the model can call.

A tool's JSON schema comes from its signature, type hints and docstring (per-argument
descriptions via docstring-parser). Arguments are validated and coerced by pydantic
before the function runs. Sync functions run in a worker thread so they never block
the event loop. Every failure (unknown tool, malformed JSON, invalid arguments, a
raising function) becomes a tool error the model reads, never a crash of the call.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import time
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
import docstring_parser
import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import to_json

from gluellm.call import ToolCallRequest
from gluellm.errors import LLMError

if TYPE_CHECKING:
    from gluellm.runs import RunRequest
    from gluellm.runtime import Runtime

ToolLike = Callable[..., Any]
"""What callers pass in ``tools=``: a function, or a `Tool`."""


@attrs.frozen(eq=False)  # compared and hashed by identity: one Tool per function
class Tool:
    """A function the model can call, with its schema and argument validator.

    Attributes:
        name: The name the model calls it by.
        description: What it does, for the model.
        parameters: JSON schema of its arguments.
        function: The function itself, sync or async.
        arguments_model: The pydantic model that validates and coerces arguments.
    """

    name: str
    description: str
    parameters: dict[str, Any] = attrs.field(repr=False)
    function: Callable[..., Any] = attrs.field(repr=False)
    arguments_model: type[pydantic.BaseModel] = attrs.field(repr=False)

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Tool:
        """Build a tool from a function's signature, type hints and docstring.

        Raises:
            TypeError: The function takes ``*args``/``**kwargs`` or is not introspectable.
        """
        tool_name = name or getattr(function, "__name__", None)
        if not tool_name or tool_name == "<lambda>":
            raise TypeError(f"Tool {function!r} needs a name: pass a named function.")
        doc = docstring_parser.parse(inspect.getdoc(function) or "")
        arg_docs = {param.arg_name: param.description for param in doc.params}
        hints = typing.get_type_hints(function, include_extras=True)
        fields: dict[str, Any] = {}
        for param in inspect.signature(function).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                stars = "*" if param.kind is param.VAR_POSITIONAL else "**"
                raise TypeError(
                    f"Tool {tool_name!r} takes {stars}{param.name}, so its schema cannot say "
                    "what to send. Give it named parameters with type hints instead, e.g. "
                    f"def {tool_name}(city: str, days: int = 1)."
                )
            if isinstance(param.default, FieldInfo):  # `x: int = Field(ge=1)`, pydantic style
                field = copy.copy(param.default)  # never mutate the caller's signature
                field.description = field.description or arg_docs.get(param.name)
            else:
                default = ... if param.default is param.empty else param.default
                field = pydantic.Field(default=default)
                # Set only when the docstring has one: description=None would erase one
                # given in the hint (`x: Annotated[str, Field(description=...)]`).
                if arg_docs.get(param.name):
                    field = pydantic.Field(default=default, description=arg_docs[param.name])
            fields[param.name] = (hints.get(param.name, Any), field)
        model = pydantic.create_model(
            f"{tool_name}_arguments",
            __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )
        parameters = model.model_json_schema()
        parameters.pop("title", None)
        summary = "\n\n".join(p for p in (doc.short_description, doc.long_description) if p)
        return cls(
            name=tool_name,
            description=description or summary or tool_name,
            parameters=parameters,
            function=function,
            arguments_model=model,
        )

    def definition(self) -> dict[str, Any]:
        """The OpenAI function-tool definition sent to the model."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate ``arguments`` and run the function (sync ones in a worker thread).

        Raises:
            pydantic.ValidationError: The arguments do not fit the signature.
        """
        validated = self.arguments_model.model_validate(arguments)
        kwargs = {name: getattr(validated, name) for name in type(validated).model_fields}
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**kwargs)
        result = await asyncio.to_thread(self.function, **kwargs)
        if inspect.isawaitable(result):  # e.g. a partial of an async function
            result = await result
        return result


def as_tools(
    tools: Sequence[ToolLike | Tool | str] | None, registry: Mapping[str, Tool]
) -> dict[str, Tool]:
    """Turn ``tools=`` into tools by name; strings name plugin-registered tools.

    Raises:
        ValueError: Two tools share a name, or a string names no registered tool.
    """
    result: dict[str, Tool] = {}
    for item in tools or ():
        if isinstance(item, Tool):
            tool = item
        elif isinstance(item, str):
            if item not in registry:
                known = ", ".join(sorted(registry)) or "none"
                raise ValueError(f"No registered tool named {item!r}. Registered tools: {known}.")
            tool = registry[item]
        else:
            tool = Tool.from_function(item)
        if tool.name in result:
            raise ValueError(f"Two tools are named {tool.name!r}; tool names must be unique.")
        result[tool.name] = tool
    return result


@attrs.frozen(kw_only=True)
class ToolExecution:
    """The record of one tool call: what was asked, what came back.

    Attributes:
        tool_call_id: The provider's ID of the call.
        tool_name: The tool the model asked for.
        arguments: The parsed arguments, or the raw text when it was not valid JSON.
        result: What the model is told: the tool's output, or the error.
        error: Whether the call failed (unknown tool, bad arguments, the tool raised).
        duration_s: Time spent validating and running the tool.
        correlation_id: The logical call this tool run belongs to.
    """

    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any] | str
    result: str
    error: bool
    duration_s: float
    correlation_id: str | None = None

    def as_history_entry(self) -> dict[str, Any]:
        """The spec's ``tool_execution_history`` item."""
        return {
            "tool_call_id": self.tool_call_id,
            "tool_name": self.tool_name,
            "arguments": self.arguments,
            "result": self.result,
            "error": self.error,
        }

    def as_message(self) -> dict[str, Any]:
        """The ``tool`` message that carries the result back to the model."""
        return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.result}


def render_result(value: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    return to_json(value, fallback=str).decode()


@attrs.frozen(kw_only=True)
class ToolInvocation:
    """A tool call about to run, as ``wrap_tool`` middleware sees it.

    Attributes:
        request: What the model asked for (ID, tool name, raw JSON arguments).
        tool: The tool it names, or None when the model named an unknown tool.
        run: The run whose tool loop asked for it, if any.
        correlation_id: The logical call it belongs to.
    """

    request: ToolCallRequest
    tool: Tool | None
    run: RunRequest | None = attrs.field(default=None, repr=False)
    correlation_id: str | None = None

    @property
    def tool_name(self) -> str:
        """The name the model called."""
        return self.request.name

    def refuse(self, reason: str) -> ToolExecution:
        """An error execution that tells the model why the tool did not run (a veto)."""
        return ToolExecution(
            tool_call_id=self.request.id,
            tool_name=self.request.name,
            arguments=_parsed_or_raw(self.request.arguments),
            result=f"Error: {self.request.name!r} was not run: {reason}",
            error=True,
            duration_s=0.0,
            correlation_id=self.correlation_id,
        )


ToolHandler: TypeAlias = Callable[[ToolInvocation], Awaitable[ToolExecution]]
"""Runs a tool invocation: the next layer of tool middleware."""

ToolMiddleware: TypeAlias = Callable[[ToolInvocation, ToolHandler], Awaitable[ToolExecution]]
"""A ``wrap_tool`` layer: receives the invocation and the next handler."""


def _parsed_or_raw(text: str) -> dict[str, Any] | str:
    try:
        parsed = json.loads(text or "{}")
    except json.JSONDecodeError:
        return text
    return parsed if isinstance(parsed, dict) else text


async def execute_tool_call(
    request: ToolCallRequest,
    tools: Mapping[str, Tool],
    correlation_id: str | None = None,
    *,
    runtime: Runtime | None = None,
    run: RunRequest | None = None,
) -> ToolExecution:
    """Run one requested tool call through ``wrap_tool`` middleware; failures become records.

    Args:
        request: The model's tool call.
        tools: The run's tools by name.
        correlation_id: The logical call it belongs to.
        runtime: Whose ``wrap_tool`` middleware applies; None runs the tool bare.
        run: The run whose loop asked for it.
    """
    invocation = ToolInvocation(
        request=request, tool=tools.get(request.name), run=run, correlation_id=correlation_id
    )
    if runtime is None or not runtime.implements("wrap_tool"):
        return await _execute(invocation, tools)
    from gluellm.middleware import collect_middleware, layer

    async def bare(invocation: ToolInvocation) -> ToolExecution:
        return await _execute(invocation, tools)

    handler: ToolHandler = bare
    for middleware in reversed(
        collect_middleware(runtime, "wrap_tool", invocation=invocation, runtime=runtime)
    ):
        handler = layer(middleware, handler)
    started = time.perf_counter()
    try:
        return await handler(invocation)
    except LLMError:  # raised on purpose (a budget, a policy): it ends the run
        raise
    except Exception as exc:  # a broken middleware fails the tool call, not the run
        execution = invocation.refuse(f"a tool middleware raised {type(exc).__name__}: {exc}")
        return attrs.evolve(execution, duration_s=time.perf_counter() - started)


async def _execute(invocation: ToolInvocation, tools: Mapping[str, Tool]) -> ToolExecution:
    """Validate the arguments and run the tool; every failure becomes an error record."""
    request = invocation.request
    correlation_id = invocation.correlation_id
    started = time.perf_counter()
    arguments: dict[str, Any] | str = request.arguments
    error = True
    tool = invocation.tool
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        result = f"Error: unknown tool {request.name!r}. Available tools: {available}."
    else:
        try:
            parsed = json.loads(request.arguments or "{}")
        except json.JSONDecodeError as exc:
            result = (
                f"Error: the arguments for {tool.name!r} are not valid JSON ({exc}). "
                "Send a JSON object."
            )
        else:
            if not isinstance(parsed, dict):
                result = f"Error: the arguments for {tool.name!r} must be a JSON object."
            else:
                arguments = parsed
                result, error = await _invoke(tool, parsed)
    return ToolExecution(
        tool_call_id=request.id,
        tool_name=request.name,
        arguments=arguments,
        result=result,
        error=error,
        duration_s=time.perf_counter() - started,
        correlation_id=correlation_id,
    )


async def _invoke(tool: Tool, arguments: dict[str, Any]) -> tuple[str, bool]:
    try:
        value = await tool.invoke(arguments)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        return f"Error: invalid arguments for {tool.name!r}: {problems}.", True
    except Exception as exc:
        from loguru import logger  # the line carries the call's correlation ID (logging_config)

        logger.warning("tool {!r} raised {}: {}", tool.name, type(exc).__name__, exc)
        return f"Error: {tool.name!r} raised {type(exc).__name__}: {exc}", True
    return render_result(value), False
