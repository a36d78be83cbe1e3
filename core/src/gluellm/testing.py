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

Both transports honour ``call.stream``: a streamed call gets a response whose
``stream`` yields the scripted text word by word and the tool calls as fragments,
with the usage in the last chunk, the way providers stream. Each such stream is a
`ScriptedStream` recorded in ``transport.streams``, so tests can check how far it
was read and that it was closed. `streamed` scripts a stream by hand: paced, or cut
midway by an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import itertools
import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

from gluellm.call import (
    ModelCall,
    ModelResponse,
    StreamDelta,
    ToolCallDelta,
    ToolCallRequest,
    Usage,
)
from gluellm.errors import APIConnectionError
from gluellm.runtime import override_transport

__all__ = [
    "FunctionTransport",
    "ScriptedStream",
    "ScriptedTransport",
    "fake_embedding",
    "override_transport",
    "reply",
    "stream_deltas",
    "streamed",
    "tool_call",
]

_WORDS = re.compile(r"\s*\S+\s*|\s+")

_call_ids = itertools.count(1)

Script: TypeAlias = "ModelResponse | str | BaseException | Callable[[ModelCall], Any]"
"""One scripted step: a response, a text, an error to raise, or a function of the call."""


def tool_call(
    name: str, arguments: Mapping[str, Any] | str = "{}", *, id: str | None = None
) -> ToolCallRequest:
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


def fake_embedding(text: str, dimension: int = 8) -> list[float]:
    """A deterministic unit-length vector for ``text``: equal texts, equal vectors."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dimension)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def _embed_answer(call: ModelCall, dimension: int) -> ModelResponse:
    """Vectors for an embedding call; one token per word, as usage."""
    tokens = sum(len(text.split()) for text in call.input)
    return ModelResponse(
        embeddings=[fake_embedding(text, dimension) for text in call.input],
        usage=Usage(tokens, 0, tokens),
        model=call.model_name,
    )


def stream_deltas(response: ModelResponse, *, argument_pieces: int = 3) -> list[StreamDelta]:
    """The chunks a provider would stream for ``response``.

    The text comes word by word (each word with the whitespace around it), then each
    tool call as fragments: ID and name first, then the arguments in up to
    ``argument_pieces`` pieces. The last chunk carries the usage and finish reason.
    """
    deltas = [StreamDelta(content=word) for word in _WORDS.findall(response.content or "")]
    for index, request in enumerate(response.tool_calls):
        first = ToolCallDelta(index=index, id=request.id, name=request.name)
        deltas.append(StreamDelta(tool_calls=[first]))
        size = max(1, -(-len(request.arguments) // max(1, argument_pieces)))
        for start in range(0, len(request.arguments), size):
            piece = request.arguments[start : start + size]
            deltas.append(StreamDelta(tool_calls=[ToolCallDelta(index=index, arguments=piece)]))
    finish = response.finish_reason or ("tool_calls" if response.tool_calls else "stop")
    deltas.append(StreamDelta(usage=response.usage, finish_reason=finish))
    return deltas


class ScriptedStream:
    """A scripted model stream that records how it was read.

    Args:
        deltas: The chunks to yield, in order.
        delay: Seconds to wait before each chunk, to pace the stream.
        cut_after: Raise ``error`` after this many chunks, like a dropped connection.
        error: What a cut raises; by default an `APIConnectionError`.

    Attributes:
        delivered: Chunks handed to the reader so far.
        closed: Whether ``aclose`` ran (the reader let go of the stream).
        exhausted: Whether the reader read to the end.
    """

    def __init__(
        self,
        deltas: Sequence[StreamDelta],
        *,
        delay: float = 0.0,
        cut_after: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        self._deltas = list(deltas)
        self._delay = delay
        self._cut_after = cut_after
        self._error = error
        self.delivered = 0
        self.closed = False
        self.exhausted = False

    def __aiter__(self) -> ScriptedStream:
        return self

    async def __anext__(self) -> StreamDelta:
        if self.closed:
            raise StopAsyncIteration
        if self._cut_after is not None and self.delivered >= self._cut_after:
            raise self._error or APIConnectionError(
                f"The scripted stream was cut after {self.delivered} chunks."
            )
        if self.delivered >= len(self._deltas):
            self.exhausted = True
            raise StopAsyncIteration
        if self._delay:
            await asyncio.sleep(self._delay)
        delta = self._deltas[self.delivered]
        self.delivered += 1
        return delta

    async def aclose(self) -> None:
        """Stop the stream, as closing a provider's response closes its connection."""
        self.closed = True


def streamed(
    response: ModelResponse | str,
    *,
    delay: float = 0.0,
    cut_after: int | None = None,
    error: BaseException | None = None,
) -> ModelResponse:
    """A streamed answer for a scripted step: ``response`` as `stream_deltas` chunks.

    Like a provider's, the returned response carries nothing but its stream (and
    model name); read ``response.stream`` to get the answer.

    Args:
        response: The turn to stream: a `reply(...)` or a text.
        delay: Seconds to wait before each chunk.
        cut_after: Raise ``error`` after this many chunks.
        error: What a cut raises; by default an `APIConnectionError`.
    """
    if isinstance(response, str):
        response = reply(response)
    if response.stream is not None:
        return response
    stream = ScriptedStream(stream_deltas(response), delay=delay, cut_after=cut_after, error=error)
    return ModelResponse(model=response.model, stream=stream)


def _answer(
    call: ModelCall, response: ModelResponse, streams: list[ScriptedStream]
) -> ModelResponse:
    """``response``, as a stream when the call asked for one; records scripted streams."""
    if call.stream and response.stream is None:
        response = streamed(response)
    if isinstance(response.stream, ScriptedStream):
        streams.append(response.stream)
    return response


class ScriptedTransport:
    """Answers each call with the next scripted step, and records every call.

    Embedding calls are answered without using steps: each text gets its
    `fake_embedding`, at most ``embed_batch_limit`` texts per request.

    Args:
        *steps: Responses (or texts, errors to raise, functions of the call), in order.
        embed_batch_limit: Texts per embedding request.
        embedding_dimension: Length of the vectors `embed` returns.
    """

    def __init__(
        self, *steps: Script, embed_batch_limit: int = 2048, embedding_dimension: int = 8
    ) -> None:
        self._steps: list[Script] = list(steps)
        self.calls: list[ModelCall] = []
        self.streams: list[ScriptedStream] = []
        self.embed_batch_limit = embed_batch_limit
        self.embedding_dimension = embedding_dimension

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
        return _answer(call, await _resolve(self._steps.pop(0), call), self.streams)

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Record ``call`` and answer it with `fake_embedding` vectors."""
        self.calls.append(call)
        if len(call.input) > self.embed_batch_limit:
            raise AssertionError(
                f"{len(call.input)} texts in one request; the limit is {self.embed_batch_limit}."
            )
        return _embed_answer(call, self.embedding_dimension)

    async def aclose(self) -> None:
        """Nothing to release."""


class FunctionTransport:
    """Answers every call by calling ``function(call)`` (sync or async).

    The function returns a `ModelResponse` or a text, or raises a GlueLLM error.
    """

    def __init__(
        self,
        function: Callable[[ModelCall], ModelResponse | str | Awaitable[ModelResponse | str]],
    ) -> None:
        self.function = function
        self.calls: list[ModelCall] = []
        self.streams: list[ScriptedStream] = []

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Record ``call`` and answer it with the function."""
        self.calls.append(call)
        return _answer(call, await _resolve(self.function, call), self.streams)

    async def aclose(self) -> None:
        """Nothing to release."""
