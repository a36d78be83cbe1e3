"""The public API: `complete`, `structured_complete` and the `GlueLLM` client."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import attrs
from pydantic import BaseModel

from gluellm.call import Message, ModelCall, new_correlation_id
from gluellm.correlation import correlation_scope, get_correlation_id
from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    LLMError,
    MaxToolIterationsError,
    RateLimitError,
    StructuredOutputError,
    TokenLimitError,
)
from gluellm.model_ids import split_model
from gluellm.models.batch import APIKeyConfig
from gluellm.models.conversation import Conversation, Role
from gluellm.models.prompt import SystemPrompt
from gluellm.results import ToolExecutionResult, attach_run_metadata
from gluellm.runtime import Runtime, get_runtime
from gluellm.streaming import StreamChunk, stream_tool_loop
from gluellm.structured_stream import stream_structured
from gluellm.tool_loop import LoopOptions, run_tool_loop
from gluellm.tools import Tool, as_tools

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "ConfigurationError",
    "GlueLLM",
    "InvalidRequestError",
    "LLMError",
    "MaxToolIterationsError",
    "RateLimitError",
    "StreamChunk",
    "StructuredOutputError",
    "TokenLimitError",
    "ToolExecutionResult",
    "complete",
    "stream_complete",
    "stream_structured_complete",
    "structured_complete",
]

T = TypeVar("T", bound=BaseModel)
ToolSpec = Callable[..., Any] | Tool | str

# Building a tool's schema costs milliseconds; do it once per function. The Tool holds
# its function, so the cache must hold the Tool weakly: a strong value would keep the
# weak key (and everything a closure captured) alive forever.
_tool_cache: weakref.WeakKeyDictionary[Callable[..., Any], weakref.ref[Tool]] = (
    weakref.WeakKeyDictionary()
)


def _tool_for(function: Callable[..., Any]) -> Tool:
    cached = _tool_cache.get(function)
    tool = cached() if cached is not None else None
    if tool is None:
        tool = Tool.from_function(function)
        _tool_cache[function] = weakref.ref(tool)
    return tool


@lru_cache(maxsize=128)
def _system_text(content: str, tools: tuple[Tool, ...]) -> str:
    return SystemPrompt(content=content).to_formatted_string(tools)


class GlueLLM:
    """A client with conversation memory: each call continues the conversation.

    Args:
        model: ``provider:model``; defaults to ``GLUELLM_DEFAULT_MODEL``.
        system_prompt: Instructions; defaults to ``GLUELLM_DEFAULT_SYSTEM_PROMPT``.
        tools: Functions (sync or async), `Tool` objects, or names of plugin tools.
        max_tool_iterations: Rounds of tool calls allowed per request; defaults to
            ``GLUELLM_MAX_TOOL_ITERATIONS``.
        eval_store: Where eval plugins record this client's calls.
        api_key: Key for every call; by default the transport looks one up.
        base_url: Endpoint override for every call.
        timeout: Seconds one model request (one attempt) may take; defaults to
            ``GLUELLM_DEFAULT_REQUEST_TIMEOUT``.
        api_keys: A pool of keys; the rate-limit plugin gives each call a key with a
            free permit. Ignored when ``api_key`` is set.
        runtime: Plugins and registries to use; by default the current runtime.
    """

    def __init__(
        self,
        model: str | None = None,
        system_prompt: str | None = None,
        tools: Sequence[ToolSpec] | None = None,
        max_tool_iterations: int | None = None,
        eval_store: Any = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        api_keys: Sequence[APIKeyConfig] | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        if max_tool_iterations is not None and max_tool_iterations < 1:
            raise ValueError("max_tool_iterations must be at least 1.")
        self.model = model
        self.system_prompt = system_prompt
        self.tools = list(tools or ())
        self.max_tool_iterations = max_tool_iterations
        self.eval_store = eval_store
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.api_keys = tuple(api_keys or ())
        self.runtime = runtime
        self._conversation: Conversation | None = None  # built on first use
        self._remember = True  # one-off calls (complete() ...) have no one to remember for
        self._tools_source: list[ToolSpec] = []
        self._function_tools: list[Tool | str] = []
        # Fail at construction, not at the first call, on a tool that cannot be described.
        self._current_tools()

    def _current_tools(self) -> list[Tool | str]:
        """``self.tools`` as tools, rebuilt only when the list changed since last time."""
        if self.tools != self._tools_source:
            self._function_tools = [
                _tool_for(t) if callable(t) and not isinstance(t, Tool) else t for t in self.tools
            ]
            self._tools_source = list(self.tools)
        return self._function_tools

    @property
    def conversation(self) -> Conversation:
        """The conversation so far (user, assistant and tool messages)."""
        if self._conversation is None:
            self._conversation = Conversation()
        return self._conversation

    def reset_conversation(self) -> None:
        """Forget the conversation; the next call starts fresh."""
        self._conversation = None

    async def complete(
        self,
        user_message: str,
        execute_tools: bool = True,
        *,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> ToolExecutionResult:
        """Send ``user_message``, run the tool loop, and return the result.

        Raises:
            LLMError: A classified provider error, or the loop's own limits.
        """
        return await self._run(user_message, None, execute_tools, correlation_id, timeout)

    async def structured_complete(
        self,
        user_message: str,
        response_format: type[T],
        execute_tools: bool = True,
        *,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> T:
        """Like `complete`, but return a validated ``response_format`` instance.

        The run's metadata (``tool_calls_made``, ``tokens_used`` ...) is readable as
        attributes of the returned instance.

        Raises:
            StructuredOutputError: No answer validated within the allowed re-asks.
        """
        result = await self._run(
            user_message, response_format, execute_tools, correlation_id, timeout
        )
        instance: T = result.structured_output
        attach_run_metadata(instance, result)
        return instance

    def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if self.eval_store is not None:
            metadata["eval_store"] = self.eval_store
        if self.api_keys and self.api_key is None:
            metadata["api_keys"] = self.api_keys
        return metadata

    async def _run(
        self,
        user_message: str,
        response_format: type[BaseModel] | None,
        execute_tools: bool,
        correlation_id: str | None,
        timeout: float | None,
    ) -> ToolExecutionResult:
        with correlation_scope(correlation_id) as scoped_id:
            run = self._prepare(user_message, response_format, execute_tools, timeout, scoped_id)
            result = await run_tool_loop(
                run.template, run.system, run.history, run.options, run.runtime
            )
        self._remember_turn(run)
        return result

    def _remember_turn(self, run: _PreparedRun) -> None:
        """Commit a finished turn; only ever after success, so a failed call can be retried.

        A turn that started before `reset_conversation` is not committed to the fresh one.
        """
        if run.conversation is not None and run.conversation is self._conversation:
            run.conversation.extend_wire(run.history[run.remembered :])

    def _prepare(
        self,
        user_message: str,
        response_format: type[BaseModel] | None,
        execute_tools: bool,
        timeout: float | None,
        correlation_id: str,
    ) -> _PreparedRun:
        """Everything one run needs; the history is a copy ending with ``user_message``."""
        runtime = self.runtime or get_runtime()
        settings = runtime.settings
        model = self.model or settings.default_model
        provider, model_name = split_model(model)
        tools = as_tools(self._current_tools(), runtime.tools)
        system_text = _system_text(
            self.system_prompt or settings.default_system_prompt, tuple(tools.values())
        )
        template = ModelCall(
            model=model,
            provider=provider,
            model_name=model_name,
            messages=(),
            tools=[tool.definition() for tool in tools.values()],
            response_format=response_format,
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=timeout or self.timeout or settings.default_request_timeout,
            correlation_id=correlation_id,
            metadata=self._metadata(),
        )
        conversation = self.conversation if self._remember else None
        history: list[Message] = conversation.messages_dict if conversation is not None else []
        remembered = len(history)
        history.append({"role": Role.USER.value, "content": user_message})
        options = LoopOptions(
            tools=tools,
            execute_tools=execute_tools,
            max_tool_iterations=self.max_tool_iterations or settings.max_tool_iterations,
            response_format=response_format,
            structured_retries=settings.structured_output_max_retries,
        )
        system: list[Message] = [{"role": Role.SYSTEM.value, "content": system_text}]
        return _PreparedRun(runtime, template, system, history, remembered, options, conversation)

    async def stream_complete(
        self,
        user_message: str,
        execute_tools: bool = True,
        *,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[StreamChunk, None]:
        """Like `complete`, but yield the answer as it streams, tools included.

        Content chunks arrive as the provider sends them, in every turn of the tool
        loop; tool calls and their results arrive as ``tool_call`` / ``tool_result``
        chunks; the last chunk has ``done`` set and carries the `ToolExecutionResult`
        in ``result``. The conversation remembers the exchange only if the stream
        reaches that last chunk.

        To close the connection the moment you stop reading, read inside
        ``contextlib.aclosing(...)``; after a plain ``break`` the event loop closes
        the stream as soon as the generator is collected.

        Raises:
            LLMError: A classified provider error (a stream cut midway raises an
                `APIConnectionError` and is not replayed), or the loop's own limits.
        """
        run = self._prepare(
            user_message, None, execute_tools, timeout, _resolve_correlation_id(correlation_id)
        )
        async with contextlib.aclosing(self._stream(run)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def stream_structured_complete(
        self,
        user_message: str,
        response_format: type[T],
        execute_tools: bool = True,
        *,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[T, None]:
        """Like `structured_complete`, but yield partial instances as fields fill in.

        Partial instances are built without validation: fields that have not arrived
        are None (or their default), and ``model_fields_set`` names those that have.
        The last instance is fully validated, re-asked like `structured_complete`'s,
        and carries the run's metadata (``tool_calls_made``, ``tokens_used`` ...).

        Raises:
            StructuredOutputError: No answer validated within the allowed re-asks.
        """
        run = self._prepare(
            user_message,
            response_format,
            execute_tools,
            timeout,
            _resolve_correlation_id(correlation_id),
        )
        async with (
            contextlib.aclosing(self._stream(run)) as chunks,
            contextlib.aclosing(stream_structured(chunks, response_format)) as instances,
        ):
            async for instance in instances:
                yield instance

    async def _stream(self, run: _PreparedRun) -> AsyncGenerator[StreamChunk, None]:
        # The correlation context variable is not held across yields (the reader's code
        # runs between them); the loop scopes it around each request and tool run.
        loop = stream_tool_loop(run.template, run.system, run.history, run.options, run.runtime)
        async with contextlib.aclosing(loop) as chunks:
            async for chunk in chunks:
                if chunk.done:
                    # Commit before handing over the last chunk: a reader that stops
                    # once it sees ``done`` must still find the exchange remembered.
                    self._remember_turn(run)
                yield chunk


def _resolve_correlation_id(given: str | None) -> str:
    """The caller's ID, else the enclosing call's, else a new one."""
    return given or get_correlation_id() or new_correlation_id()


@attrs.frozen
class _PreparedRun:
    runtime: Runtime
    template: ModelCall
    system: list[Message]
    history: list[Message]
    remembered: int
    options: LoopOptions
    conversation: Conversation | None  # where the turn is committed; None: not remembered


def _one_off(*args: Any, **kwargs: Any) -> GlueLLM:
    """A client for one call: nothing to remember afterwards, so memory is skipped."""
    client = GlueLLM(*args, **kwargs)
    client._remember = False
    return client


async def complete(
    user_message: str,
    model: str | None = None,
    system_prompt: str | None = None,
    tools: Sequence[ToolSpec] | None = None,
    execute_tools: bool = True,
    max_tool_iterations: int | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    api_keys: Sequence[APIKeyConfig] | None = None,
    correlation_id: str | None = None,
) -> ToolExecutionResult:
    """One-off completion with the tool loop; see `GlueLLM` for the arguments."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        api_keys=api_keys,
    )
    return await client.complete(user_message, execute_tools, correlation_id=correlation_id)


async def structured_complete(
    user_message: str,
    response_format: type[T],
    model: str | None = None,
    system_prompt: str | None = None,
    tools: Sequence[ToolSpec] | None = None,
    execute_tools: bool = True,
    max_tool_iterations: int | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    api_keys: Sequence[APIKeyConfig] | None = None,
    correlation_id: str | None = None,
) -> T:
    """One-off structured completion; returns a validated ``response_format`` instance."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        api_keys=api_keys,
    )
    return await client.structured_complete(
        user_message, response_format, execute_tools, correlation_id=correlation_id
    )


async def stream_complete(
    user_message: str,
    model: str | None = None,
    system_prompt: str | None = None,
    tools: Sequence[ToolSpec] | None = None,
    execute_tools: bool = True,
    max_tool_iterations: int | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    api_keys: Sequence[APIKeyConfig] | None = None,
    correlation_id: str | None = None,
) -> AsyncGenerator[StreamChunk, None]:
    """One-off streamed completion with the tool loop; see `GlueLLM.stream_complete`."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        api_keys=api_keys,
    )
    stream = client.stream_complete(user_message, execute_tools, correlation_id=correlation_id)
    async with contextlib.aclosing(stream) as chunks:
        async for chunk in chunks:
            yield chunk


async def stream_structured_complete(
    user_message: str,
    response_format: type[T],
    model: str | None = None,
    system_prompt: str | None = None,
    tools: Sequence[ToolSpec] | None = None,
    execute_tools: bool = True,
    max_tool_iterations: int | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    api_keys: Sequence[APIKeyConfig] | None = None,
    correlation_id: str | None = None,
) -> AsyncGenerator[T, None]:
    """One-off streamed structured completion; see `GlueLLM.stream_structured_complete`."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        api_keys=api_keys,
    )
    stream = client.stream_structured_complete(
        user_message, response_format, execute_tools, correlation_id=correlation_id
    )
    async with contextlib.aclosing(stream) as instances:
        async for instance in instances:
            yield instance
