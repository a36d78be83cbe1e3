"""The request and response that travel through the call pipeline.

Plugins (middleware, retriers, rate limiters, transports) receive a `ModelCall` and
produce a `ModelResponse`. Both are immutable attrs value objects: a middleware that
wants to change a call makes a new one with `attrs.evolve`.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

if TYPE_CHECKING:
    from gluellm.models.batch import APIKeyConfig
    from gluellm.runs import RunRequest

Message: TypeAlias = dict[str, Any]
"""One chat message in OpenAI wire format (``role``, ``content``, ``tool_calls`` ...)."""


def new_correlation_id() -> str:
    """A fresh correlation ID for a logical call: 32 random hex digits, like ``uuid4().hex``.

    From a generator of GlueLLM's own, seeded from ``os.urandom`` per process and again
    in a forked child (so processes never share IDs, and ``random.seed()`` in the app
    does not repeat them): ``os.urandom`` per call is a system call that lets go of the
    GIL, and measured several times its ~0.4 µs under load. IDs tie logs together; they
    are not secrets.
    """
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_ids.seed)


@attrs.frozen
class Usage:
    """Token counts for one model turn (or a sum of turns)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        """The spec's ``tokens_used`` shape: ``prompt``, ``completion``, ``total``."""
        return {
            "prompt": self.prompt_tokens,
            "completion": self.completion_tokens,
            "total": self.total_tokens,
        }


@attrs.frozen
class ToolCallRequest:
    """A tool call the model asked for.

    Attributes:
        id: The provider's ID for the call; tool results refer back to it.
        name: The tool's name.
        arguments: The arguments as the model sent them: a JSON text, possibly malformed.
    """

    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, Any]:
        """The OpenAI wire form used inside an assistant message."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@attrs.frozen(kw_only=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; fragments with the same ``index`` add up.

    Attributes:
        index: Which tool call of the turn this fragment belongs to.
        id: The call's ID (usually only in its first fragment).
        name: The tool's name (usually only in its first fragment).
        arguments: A piece of the JSON arguments text.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@attrs.frozen(kw_only=True)
class StreamDelta:
    """One chunk of a streamed model turn.

    Attributes:
        content: Text to append to the answer.
        tool_calls: Tool-call fragments.
        usage: Usage for the turn (usually only in the last chunk).
        finish_reason: Set on the chunk that ends the turn.
    """

    content: str | None = None
    tool_calls: Sequence[ToolCallDelta] = ()
    usage: Usage | None = None
    finish_reason: str | None = None


# slots=False: a frozen class with a __dict__ builds (and evolves) about a third faster
# than a slotted one, and one is built per model turn.
@attrs.frozen(kw_only=True, slots=False)
class ModelCall:
    """One request to a model: what every pipeline layer receives.

    Attributes:
        model: The model string as given, e.g. ``openai:gpt-4o-mini``.
        provider: The provider part of ``model`` (``openai``).
        model_name: The model part of ``model`` (``gpt-4o-mini``).
        messages: The conversation in OpenAI wire format, system message first.
        tools: Tool definitions in OpenAI function-tool format, or empty.
        response_format: A pydantic model class the answer must validate against, or None.
        stream: Whether the caller wants the answer streamed.
        options: Model parameters in OpenAI wire form (``temperature``, ``max_tokens``,
            ``tool_choice`` ...), validated by `gluellm.params.ModelParams`, plus the
            caller's provider-specific extras; transports forward them as they are.
        api_key: Key for this call; None lets the transport look one up. Never printed.
        base_url: Endpoint override; None lets the transport decide.
        timeout: Seconds one attempt may take; None for the transport's default.
        deadline: Seconds the whole call may take, retries and their waits included;
            None for no deadline.
        correlation_id: Ties logs, retries, tool runs and records of one logical call.
        metadata: Free-form data for plugins; core never reads it.
        operation: ``chat`` for a chat turn, ``embedding`` for an embedding request.
        input: For ``embedding`` calls: the texts to embed, in order.
        api_keys: A pool of keys (`APIKeyConfig`) for the call's provider; the
            rate-limit plugin picks one per attempt. Empty: no pool.
        run: The run (one logical ``complete()``, stream, embedding ...) this call
            belongs to, or None for a call made outside a run.
    """

    model: str
    provider: str
    model_name: str
    messages: Sequence[Message]
    tools: Sequence[Mapping[str, Any]] = ()
    response_format: type[Any] | None = None
    stream: bool = False
    options: Mapping[str, Any] = attrs.field(factory=dict)
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    timeout: float | None = None
    deadline: float | None = None
    correlation_id: str = attrs.field(factory=new_correlation_id)
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    operation: Literal["chat", "embedding"] = "chat"
    input: Sequence[str] = ()
    api_keys: Sequence[APIKeyConfig] = attrs.field(default=(), repr=False)
    run: RunRequest | None = attrs.field(default=None, repr=False, eq=False)

    def with_messages(self, messages: Sequence[Message]) -> ModelCall:
        """This call with other messages: what the tool loop sends each turn.

        ``attrs.evolve(call, messages=...)`` does the same through ``__init__`` and costs
        several microseconds for a class this wide; the loop does it every turn.
        """
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__["messages"] = messages
        return new


@attrs.frozen(kw_only=True)
class ModelResponse:
    """One model turn's answer.

    Attributes:
        content: The text the model wrote, or None when it only called tools.
        tool_calls: The tool calls it asked for, in order.
        usage: Token counts the provider reported, when it did.
        finish_reason: The provider's reason for stopping (``stop``, ``tool_calls`` ...).
        model: The model that answered, as the provider named it.
        raw: The transport's own response object, untouched.
        stream: For calls with ``stream=True``: the turn's chunks. The transport returns
            once the provider accepted the request, so failures before that are raised
            (and retried) inside the pipeline; failures while iterating raise classified
            errors to the reader and are never replayed. Closing the iterator closes
            the connection.
        embeddings: For ``embedding`` calls: one vector per input text, in input order.
        estimated_cost_usd: What this turn cost, when its price is known; core fills
            it in after the transport answers (see `gluellm.costs`).
    """

    content: str | None = None
    tool_calls: Sequence[ToolCallRequest] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)
    stream: AsyncIterator[StreamDelta] | None = attrs.field(default=None, repr=False, eq=False)
    embeddings: Sequence[Sequence[float]] = attrs.field(default=(), repr=False)
    estimated_cost_usd: float | None = None

    def with_cost(self, cost: float | None) -> ModelResponse:
        """This turn with ``estimated_cost_usd`` set.

        What ``attrs.evolve(response, estimated_cost_usd=cost)`` gives, in a third of its
        time: the pipeline prices every turn.
        """
        return ModelResponse(
            content=self.content,
            tool_calls=self.tool_calls,
            usage=self.usage,
            finish_reason=self.finish_reason,
            model=self.model,
            raw=self.raw,
            stream=self.stream,
            embeddings=self.embeddings,
            estimated_cost_usd=cost,
        )


CallHandler: TypeAlias = Callable[[ModelCall], Awaitable[ModelResponse]]
"""Sends a call on and returns the response: the next layer of the pipeline."""

CallMiddleware: TypeAlias = Callable[[ModelCall, CallHandler], Awaitable[ModelResponse]]
"""A pipeline layer: receives the call and the next handler, returns the response.

Middleware from ``wrap_call``, the retrier and the rate limiter all have this shape.
"""


@runtime_checkable
class Transport(Protocol):
    """Sends calls to a model provider. Registered through ``register_transports``."""

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Send ``call`` and return the model's answer, raising GlueLLM errors.

        With ``call.stream`` set, return a response whose ``stream`` yields the chunks.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; called once at runtime shutdown."""
        ...


@runtime_checkable
class PreparedTransport(Protocol):
    """A transport that can get ready for a call before it is sent (optional).

    Core awaits ``prepare`` before the retry, rate-limit and timeout layers, so a cold
    SDK import neither counts against the per-attempt timeout nor holds a permit.
    """

    async def prepare(self, call: ModelCall) -> None:
        """Import what ``call`` needs and build its client; must not block the loop."""
        ...


@runtime_checkable
class EmbeddingTransport(Protocol):
    """A transport that also serves ``operation="embedding"`` calls (optional).

    ``embed_batch_limit`` (an int attribute, optional) caps texts per request; core
    splits longer inputs and reassembles the vectors in order.
    """

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Embed ``call.input``; return one vector per text, in order, with usage."""
        ...


EMBEDDING_BATCH_LIMIT = 2048
"""Texts per embedding request unless the transport sets ``embed_batch_limit``."""
