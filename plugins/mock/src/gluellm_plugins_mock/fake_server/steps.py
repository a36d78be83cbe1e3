"""What a test scripts (replies and faults) and what the server records.

Steps are immutable values: the same `FakeReply` can be enqueued many times or returned
by a responder for every request, and the wire encoders may cache work per step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, Union, get_args, overload

CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions", "/v1/messages", "/messages"})
"""Paths whose requests consume scripted steps (OpenAI chat and Anthropic messages)."""


@dataclass(frozen=True, slots=True)
class FakeToolCall:
    """One tool call in a scripted reply.

    Attributes:
        name: The tool's name.
        arguments: The arguments as JSON text; may be malformed on purpose.
        id: The call's ID; generated per response when None.
    """

    name: str
    arguments: str = "{}"
    id: str | None = None


ToolCallSpec: TypeAlias = (
    "FakeToolCall | tuple[str, Mapping[str, Any] | str] | tuple[str, Mapping[str, Any] | str, str]"
)
"""A tool call as tests write it: ``(name, args)``, ``(name, args, id)`` or a FakeToolCall."""


def _as_tool_call(spec: ToolCallSpec) -> FakeToolCall:
    if isinstance(spec, FakeToolCall):
        return spec
    name, arguments, *rest = spec
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    return FakeToolCall(name=name, arguments=text, id=rest[0] if rest else None)


class _ToolCallsFactory(Protocol):
    def __call__(
        self,
        *calls: ToolCallSpec,
        content: str | None = None,
        usage: tuple[int, int] | None = None,
    ) -> FakeReply: ...


class _ToolCallsAttribute:
    """``FakeReply.tool_calls(...)`` builds a reply; ``reply.tool_calls`` reads its calls."""

    @overload
    def __get__(self, obj: None, owner: type[FakeReply]) -> _ToolCallsFactory: ...

    @overload
    def __get__(self, obj: FakeReply, owner: type[FakeReply]) -> tuple[FakeToolCall, ...]: ...

    def __get__(
        self, obj: FakeReply | None, owner: type[FakeReply]
    ) -> _ToolCallsFactory | tuple[FakeToolCall, ...]:
        return owner.make_tool_calls if obj is None else obj.calls


@dataclass(frozen=True, slots=True)
class FakeReply:
    """A model turn the server answers with, in whichever wire format was asked.

    Build one with `FakeReply.text`, `FakeReply.tool_calls` or `FakeReply.json`.
    On an instance, ``reply.tool_calls`` is the tuple of its calls.

    Attributes:
        content: The assistant's text, or None (tool calls only).
        calls: Tool calls the model makes.
        usage: ``(prompt_tokens, completion_tokens)``; None estimates them from word counts.
    """

    content: str | None = None
    calls: tuple[FakeToolCall, ...] = ()
    usage: tuple[int, int] | None = None

    tool_calls: ClassVar[_ToolCallsAttribute] = _ToolCallsAttribute()

    @classmethod
    def text(cls, text: str, *, usage: tuple[int, int] | None = None) -> FakeReply:
        """A plain text answer."""
        return cls(content=text, usage=usage)

    @classmethod
    def make_tool_calls(
        cls,
        *calls: ToolCallSpec,
        content: str | None = None,
        usage: tuple[int, int] | None = None,
    ) -> FakeReply:
        """A turn that calls tools; each call is ``(name, args)`` with args a dict or raw text."""
        return cls(content=content, calls=tuple(_as_tool_call(c) for c in calls), usage=usage)

    @classmethod
    def json(cls, value: Any, *, usage: tuple[int, int] | None = None) -> FakeReply:
        """A text answer whose content is ``value`` serialized as JSON."""
        return cls(content=json.dumps(value), usage=usage)

    @property
    def finish_reason(self) -> str:
        """OpenAI's finish reason for this turn."""
        return "tool_calls" if self.calls else "stop"


class Fault:
    """Base of the injected failures; build them with the static constructors."""

    __slots__ = ()

    @staticmethod
    def status(
        status: int, *, retry_after: float | None = None, message: str | None = None
    ) -> StatusFault:
        """Answer with an HTTP error carrying the provider's real error body and headers."""
        return StatusFault(http_status=status, retry_after=retry_after, message=message)

    @staticmethod
    def context_length(server: ContextServer | None = None) -> StatusFault:
        """The "context window exceeded" 400, as the provider (or ``server``) words it.

        ``server`` names a self-hosted OpenAI-compatible server whose own body to send
        (see `CONTEXT_SERVERS`): ``llamacpp``, ``vllm``, ``ollama``, ``lmstudio`` ...
        None sends the provider's (OpenAI's or Anthropic's) body.
        """
        if server is not None and server not in CONTEXT_SERVERS:
            raise ValueError(f"unknown server {server!r}; known: {', '.join(CONTEXT_SERVERS)}")
        return StatusFault(http_status=400, context_window=True, server=server)

    @staticmethod
    def delay(seconds: float, then: Step = None) -> DelayFault:
        """Wait ``seconds``, then play ``then`` (None: the default answer)."""
        return DelayFault(seconds=seconds, then=then)

    @staticmethod
    def drop_connection() -> DropConnectionFault:
        """Close the socket without sending any response."""
        return DropConnectionFault()

    @staticmethod
    def cut_stream(after_chunks: int = 3, then: Step = None) -> CutStreamFault:
        """Send ``after_chunks`` SSE events of ``then`` (default a long text), then hang up.

        A non-streaming request gets the headers and part of the body instead.
        """
        return CutStreamFault(after_chunks=after_chunks, then=then)

    @staticmethod
    def stream_error(
        after_chunks: int = 3, status: int = 500, *, message: str | None = None, then: Step = None
    ) -> StreamErrorFault:
        """Send ``after_chunks`` SSE events of ``then``, then the provider's in-stream error.

        OpenAI streams a ``data: {"error": ...}`` frame; Anthropic an ``error`` event (use
        status 529 for its ``overloaded_error``). The connection then ends cleanly.
        A non-streaming request gets the plain HTTP error instead.
        """
        fault = StatusFault(http_status=status, message=message)
        return StreamErrorFault(after_chunks=after_chunks, error=fault, then=then)

    @staticmethod
    def end_stream_early(after_chunks: int = 3, then: Step = None) -> EarlyEndFault:
        """Send ``after_chunks`` SSE events of ``then``, then end the response cleanly.

        Unlike `cut_stream` the HTTP response is complete, but the answer is not: no
        finish reason, no ``data: [DONE]`` (OpenAI), no ``message_delta`` or
        ``message_stop`` (Anthropic), as when a proxy or a crashing server stops early.
        A non-streaming request gets a truncated JSON body that is complete as HTTP.
        """
        return EarlyEndFault(after_chunks=after_chunks, then=then)

    @staticmethod
    def raw(body: str | bytes, *, content_type: str, status: int = 200) -> RawBodyFault:
        """Answer with ``body`` as it is, whatever the request asked for."""
        data = body.encode() if isinstance(body, str) else body
        return RawBodyFault(http_status=status, body=data, content_type=content_type)

    @staticmethod
    def html_page(status: int = 200) -> RawBodyFault:
        """An HTML page instead of the API's answer: a captive portal or a proxy's login page."""
        return Fault.raw(HTML_PAGE, content_type="text/html; charset=utf-8", status=status)

    @staticmethod
    def echo_key(status: int = 401) -> EchoKeyFault:
        """An error whose body repeats the API key the request sent, as some gateways do."""
        return EchoKeyFault(http_status=status)


@dataclass(frozen=True, slots=True)
class StatusFault(Fault):
    """An HTTP error response (see `Fault.status` and `Fault.context_length`).

    Attributes:
        http_status: The status code.
        retry_after: Seconds for the ``retry-after`` header; None sends no header.
        message: The error message; None uses the provider's usual one.
        context_window: Send the provider's "context window exceeded" error.
        server: With ``context_window``: the self-hosted server whose body to send.
    """

    http_status: int
    retry_after: float | None = None
    message: str | None = None
    context_window: bool = False
    server: ContextServer | None = None


@dataclass(frozen=True, slots=True)
class DelayFault(Fault):
    """A pause before the next step (see `Fault.delay`)."""

    seconds: float
    then: Step = None


@dataclass(frozen=True, slots=True)
class DropConnectionFault(Fault):
    """A connection closed without a response (see `Fault.drop_connection`)."""


@dataclass(frozen=True, slots=True)
class CutStreamFault(Fault):
    """A response cut off midway (see `Fault.cut_stream`)."""

    after_chunks: int = 3
    then: Step = None


@dataclass(frozen=True, slots=True)
class StreamErrorFault(Fault):
    """An error reported inside a stream after some chunks (see `Fault.stream_error`)."""

    after_chunks: int
    error: StatusFault
    then: Step = None


@dataclass(frozen=True, slots=True)
class EarlyEndFault(Fault):
    """A response that ends cleanly before the answer does (see `Fault.end_stream_early`)."""

    after_chunks: int = 3
    then: Step = None


@dataclass(frozen=True, slots=True)
class RawBodyFault(Fault):
    """A body that is not the API's answer (see `Fault.raw` and `Fault.html_page`)."""

    http_status: int
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class EchoKeyFault(Fault):
    """An error body that repeats the request's API key (see `Fault.echo_key`)."""

    http_status: int = 401


HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in to continue</title></head>\n"
    "<body><h1>Network login required</h1>\n"
    "<p>Your session has expired. Sign in to the corporate proxy to continue.</p>\n"
    "</body></html>\n"
)
"""What `Fault.html_page` serves: a proxy's login page."""

ContextServer: TypeAlias = Literal[
    "llamacpp", "llamacpp-legacy", "vllm", "vllm-legacy", "ollama", "lmstudio", "lmstudio-mlx"
]
"""Self-hosted servers whose "context window exceeded" body `Fault.context_length` knows."""

CONTEXT_SERVERS: tuple[ContextServer, ...] = get_args(ContextServer)


Step: TypeAlias = Union[FakeReply, Fault, str, None]  # noqa: UP007  (a runtime alias)
"""One scripted answer: a reply, a fault, a text, or None for the default answer."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request the server received.

    Attributes:
        method: The HTTP method.
        path: The URL path, without the query string.
        headers: The request headers (case-insensitive lookups).
        json: The parsed JSON body, or None when there was none or it was not JSON.
        received_at: ``time.monotonic()`` when the server started handling it.
        query: The query string parameters.
        peer: The client's (host, port): requests with the same peer came over the
            same connection.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any
    received_at: float
    query: Mapping[str, str] = field(default_factory=dict)
    peer: tuple[str, int] | None = None

    @property
    def is_chat(self) -> bool:
        """Whether this is an OpenAI chat or Anthropic messages request."""
        return self.path in CHAT_PATHS

    @property
    def api(self) -> str:
        """``"anthropic"`` for Anthropic messages requests, else ``"openai"``."""
        return "anthropic" if self.path.endswith("/messages") else "openai"

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body when it is an object, else an empty dict."""
        return self.json if isinstance(self.json, dict) else {}

    @property
    def stream(self) -> bool:
        """Whether the client asked for a streamed answer."""
        return self.body.get("stream") is True

    @property
    def model(self) -> str | None:
        """The requested model."""
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages sent (empty for other endpoints)."""
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []
