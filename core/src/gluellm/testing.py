"""Transports for tests: scripted replies and function-backed models.

Use them to test code built on GlueLLM without a network::

    from gluellm.testing import ScriptedTransport, reply, tool_call
    from gluellm.runtime import override_transport

    transport = ScriptedTransport(
        reply(tool_calls=[tool_call("get_weather", {"location": "Tokyo"})]),
        reply("Sunny in Tokyo."),
    )
    with override_transport(transport):
        result = await complete("Weather in Tokyo?", tools=[get_weather])
    assert len(transport.calls) == 2
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

from gluellm.call import ModelCall, ModelResponse, ToolCallRequest, Usage
from gluellm.runtime import override_transport

__all__ = [
    "FunctionTransport",
    "ScriptedTransport",
    "override_transport",
    "reply",
    "tool_call",
]

_call_ids = itertools.count(1)

Script: TypeAlias = "ModelResponse | str | BaseException | Callable[[ModelCall], Any]"
"""One scripted step: a response, a text, an error to raise, or a function of the call."""


def tool_call(name: str, arguments: Mapping[str, Any] | str = "{}", *, id: str | None = None) -> ToolCallRequest:
    """A tool call the scripted model makes; ``arguments`` may be raw (malformed) text."""
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    return ToolCallRequest(id=id or f"call_{next(_call_ids)}", name=name, arguments=text)


def reply(
    content: str | None = None,
    *,
    tool_calls: Sequence[ToolCallRequest] = (),
    usage: Usage | tuple[int, int] | None = None,
) -> ModelResponse:
    """A scripted model turn: text, tool calls, or both; ``usage`` as (prompt, completion)."""
    if isinstance(usage, tuple):
        usage = Usage(usage[0], usage[1], usage[0] + usage[1])
    return ModelResponse(
        content=content,
        tool_calls=tuple(tool_calls),
        usage=usage,
        finish_reason="tool_calls" if tool_calls else "stop",
        model="scripted",
    )


async def _resolve(value: Any, call: ModelCall) -> ModelResponse:
    if isinstance(value, BaseException):
        raise value
    if callable(value) and not isinstance(value, ModelResponse):
        value = value(call)
        if inspect.isawaitable(value):
            value = await value
    if isinstance(value, str):
        return reply(value)
    if isinstance(value, ModelResponse):
        return value
    raise TypeError(f"A scripted step must give a ModelResponse or str, not {value!r}.")


class ScriptedTransport:
    """Answers each call with the next scripted step, and records every call.

    Args:
        *steps: Responses (or texts, errors to raise, functions of the call), in order.
    """

    def __init__(self, *steps: Script) -> None:
        self._steps: list[Script] = list(steps)
        self.calls: list[ModelCall] = []

    def add(self, *steps: Script) -> None:
        """Append more steps."""
        self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        """Steps not used yet."""
        return len(self._steps)

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Record ``call`` and play the next step."""
        self.calls.append(call)
        if not self._steps:
            raise AssertionError(
                f"ScriptedTransport ran out of steps at call {len(self.calls)}; the last "
                f"message was {call.messages[-1] if call.messages else None!r}. Add more steps."
            )
        return await _resolve(self._steps.pop(0), call)

    async def aclose(self) -> None:
        """Nothing to release."""


class FunctionTransport:
    """Answers every call by calling ``function(call)`` (sync or async).

    The function returns a `ModelResponse` or a text, or raises a GlueLLM error.
    """

    def __init__(self, function: Callable[[ModelCall], ModelResponse | str | Awaitable[ModelResponse | str]]) -> None:
        self.function = function
        self.calls: list[ModelCall] = []

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Record ``call`` and answer it with the function."""
        self.calls.append(call)
        return await _resolve(self.function, call)

    async def aclose(self) -> None:
        """Nothing to release."""
