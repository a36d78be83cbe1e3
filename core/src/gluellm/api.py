"""The public API: `complete`, `structured_complete`, `embed` and the `GlueLLM` client.

Every function here starts a run (see `gluellm.runs`): ``wrap_run`` middleware and
``on_run_end`` observers see it whole, tool loop, re-asks and streams included.

Importing this module is cheap (no pydantic, no provider SDK): the tool loop, tools,
structured output, results and embeddings load when the first client is built
(`_load_engine`), and `ToolExecutionResult`, `EmbeddingResult` and `StreamChunk` are
importable from here as before (module ``__getattr__``).
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypedDict, TypeVar, Unpack

import attrs

from gluellm.call import Message, ModelCall, new_correlation_id
from gluellm.correlation import (
    bind_correlation_id,
    correlation_scope,
    get_correlation_id,
    unbind_correlation_id,
)
from gluellm.costs import Budget
from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BudgetExceededError,
    ConfigurationError,
    InvalidRequestError,
    LLMError,
    MaxToolIterationsError,
    RateLimitError,
    StructuredOutputError,
    TokenLimitError,
)
from gluellm.model_ids import split_model
from gluellm.params import NO_PARAMS, ModelParams
from gluellm.runs import RunRequest, StreamedRun, current_run, execute_run
from gluellm.runtime import Runtime, get_runtime

if TYPE_CHECKING:
    # Bound at runtime by `_load_engine` (first client built, or first attribute access).
    from pydantic import BaseModel

    from gluellm.embeddings import EmbeddingResult, run_embedding
    from gluellm.models.batch import APIKeyConfig
    from gluellm.models.conversation import Conversation
    from gluellm.models.prompt import SystemPrompt
    from gluellm.results import ToolExecutionResult, attach_run_metadata
    from gluellm.streaming import StreamChunk, stream_tool_loop
    from gluellm.structured_stream import stream_structured
    from gluellm.tool_loop import LoopOptions, run_tool_loop
    from gluellm.tools import Tool, as_tools

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "Budget",
    "BudgetExceededError",
    "CallParams",
    "ConfigurationError",
    "EmbeddingResult",
    "GlueLLM",
    "InvalidRequestError",
    "LLMError",
    "MaxToolIterationsError",
    "ModelParams",
    "RateLimitError",
    "StreamChunk",
    "StructuredOutputError",
    "TokenLimitError",
    "ToolExecutionResult",
    "complete",
    "embed",
    "stream_complete",
    "stream_structured_complete",
    "structured_complete",
    "warmup",
]


_LAZY = {
    "BaseModel": "pydantic",
    "EmbeddingResult": "gluellm.embeddings",
    "run_embedding": "gluellm.embeddings",
    "Conversation": "gluellm.models.conversation",
    "SystemPrompt": "gluellm.models.prompt",
    "ToolExecutionResult": "gluellm.results",
    "attach_run_metadata": "gluellm.results",
    "StreamChunk": "gluellm.streaming",
    "stream_tool_loop": "gluellm.streaming",
    "stream_structured": "gluellm.structured_stream",
    "LoopOptions": "gluellm.tool_loop",
    "run_tool_loop": "gluellm.tool_loop",
    "Tool": "gluellm.tools",
    "as_tools": "gluellm.tools",
}
"""Names this module uses or exports that live in pydantic-heavy modules, by module."""

_engine_loaded = False


def _load_engine() -> None:
    """Import the pydantic-heavy modules once and bind their names in this module.

    Called when the first `GlueLLM` is built (every API function builds one) and by
    ``__getattr__``; afterwards the names are plain globals, as fast as a top-level
    import.
    """
    global _engine_loaded
    if _engine_loaded:
        return
    import importlib

    namespace = globals()
    for name, module in _LAZY.items():
        namespace[name] = getattr(importlib.import_module(module), name)
    _engine_loaded = True


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        _load_engine()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CallParams(TypedDict, total=False):
    """Model parameters every API function and `GlueLLM` accepts (see `ModelParams`).

    ``extra_params`` passes provider-specific parameters through as they are. On
    `GlueLLM` they are the client's defaults; a call's values override them.
    """

    temperature: float
    max_tokens: int
    top_p: float
    stop: str | Sequence[str]
    seed: int
    tool_choice: str
    extra_params: Mapping[str, Any]


def _params(given: CallParams) -> ModelParams | None:
    if not given:
        return None
    values: dict[str, Any] = dict(given)
    extra = values.pop("extra_params", None) or {}
    return ModelParams(extra=dict(extra), **values)


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


def _check_timeout(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}.")
    if value <= 0:
        raise ValueError(
            f"{name} must be more than 0 seconds, got {value!r}. Leave it unset for the "
            "default (GLUELLM_DEFAULT_REQUEST_TIMEOUT)."
        )


def _check_model(model: object) -> None:
    if model is None:
        return
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model must be a non-empty 'provider:model' string such as "
            f"'openai:gpt-4o-mini', got {model!r}."
        )


def _check_user_message(user_message: object) -> None:
    if not isinstance(user_message, str) or not user_message.strip():
        raise ValueError(
            f"user_message must be a non-empty string, got {user_message!r}. "
            "Pass the text you want the model to answer."
        )


def _check_response_format(response_format: object) -> None:
    from pydantic import BaseModel

    if not (isinstance(response_format, type) and issubclass(response_format, BaseModel)):
        raise TypeError(
            f"response_format must be a pydantic model class (a subclass of "
            f"pydantic.BaseModel), got {response_format!r}. Wrap other types in one, e.g. "
            "class Answer(BaseModel): value: list[int]."
        )


T = TypeVar("T", bound="BaseModel")
ToolSpec: TypeAlias = "Callable[..., Any] | Tool | str"


class _CallOptions(NamedTuple):
    """What one call of a `GlueLLM` method overrides (a tuple: built on every call)."""

    model: str | None = None
    correlation_id: str | None = None
    timeout: float | None = None
    params: ModelParams | None = None
    budget: Budget | None = None


class GlueLLM:
    """A client with conversation memory: each call continues the conversation.

    Args:
        model: ``provider:model``; defaults to ``GLUELLM_DEFAULT_MODEL``.
        system_prompt: Instructions; defaults to ``GLUELLM_DEFAULT_SYSTEM_PROMPT``.
        tools: Functions (sync or async), `Tool` objects, or names of plugin tools.
        max_tool_iterations: Rounds of tool calls allowed per request; defaults to
            ``GLUELLM_MAX_TOOL_ITERATIONS``.
        eval_store: Where eval plugins record this client's runs (an `EvalStore`); it
            takes precedence over the global store.
        embedding_model: Model for `embed`; defaults to ``GLUELLM_DEFAULT_EMBEDDING_MODEL``.
        api_key: Key for every call; by default ``GLUELLM_<PROVIDER>_API_KEY`` from the
            runtime's settings, else the provider's own variable (``OPENAI_API_KEY``).
        base_url: Endpoint override for every call.
        timeout: Seconds one model request (one attempt) may take; defaults to
            ``GLUELLM_DEFAULT_REQUEST_TIMEOUT``.
        api_keys: A pool of keys; the rate-limit plugin gives each call a key with a
            free permit. Ignored when ``api_key`` is set.
        budget: Spending limit per call (cost and/or tokens); a call's own ``budget=``
            replaces it.
        runtime: Plugins and registries to use; by default the current runtime.
        **params: Model parameters (``temperature``, ``max_tokens``, ``top_p``, ``stop``,
            ``seed``, ``tool_choice``, ``extra_params``): defaults for every call.

    Raises:
        ValueError: A parameter is out of range; the message says which and why.
    """

    def __init__(
        self,
        model: str | None = None,
        system_prompt: str | None = None,
        tools: Sequence[ToolSpec] | None = None,
        max_tool_iterations: int | None = None,
        eval_store: Any = None,
        *,
        embedding_model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        api_keys: Sequence[APIKeyConfig] | None = None,
        budget: Budget | None = None,
        runtime: Runtime | None = None,
        **params: Unpack[CallParams],
    ) -> None:
        if not _engine_loaded:
            _load_engine()
        if max_tool_iterations is not None and max_tool_iterations < 1:
            raise ValueError("max_tool_iterations must be at least 1.")
        _check_model(model)
        _check_model(embedding_model)
        _check_timeout("timeout", timeout)
        self.model = model
        self.system_prompt = system_prompt
        self.tools = list(tools or ())
        self.max_tool_iterations = max_tool_iterations
        self.eval_store = eval_store
        self.embedding_model = embedding_model
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.api_keys = tuple(api_keys or ())
        self.budget = budget
        self.params = _params(params) or NO_PARAMS
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
        model: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        **params: Unpack[CallParams],
    ) -> ToolExecutionResult:
        """Send ``user_message``, run the tool loop, and return the result.

        Args:
            user_message: The new message.
            execute_tools: Run the tools the model asks for; with False the requested
                calls come back in ``pending_tool_calls``.
            model: This call's model, instead of the client's.
            correlation_id: ID for this call's logs and records; by default a new one.
            timeout: Seconds one model request may take, instead of the client's.
            budget: Spending limit for this call, instead of the client's.
            **params: Model parameters for this call, over the client's.

        Raises:
            LLMError: A classified provider error, or the loop's own limits.
            BudgetExceededError: The budget was spent before the loop finished.
        """
        options = self._call_options(model, correlation_id, timeout, budget, params)
        return await self._run(user_message, None, execute_tools, options, "complete")

    async def structured_complete(
        self,
        user_message: str,
        response_format: type[T],
        execute_tools: bool = True,
        *,
        model: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        **params: Unpack[CallParams],
    ) -> T:
        """Like `complete`, but return a validated ``response_format`` instance.

        The run's metadata (``tool_calls_made``, ``tokens_used`` ...) is readable as
        attributes of the returned instance.

        Raises:
            TypeError: ``response_format`` is not a pydantic model class.
            StructuredOutputError: No answer validated within the allowed re-asks.
        """
        _check_response_format(response_format)
        options = self._call_options(model, correlation_id, timeout, budget, params)
        result = await self._run(
            user_message, response_format, execute_tools, options, "structured_complete"
        )
        instance: T = result.structured_output
        attach_run_metadata(instance, result)
        return instance

    async def embed(
        self,
        texts: str | Sequence[str],
        *,
        model: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> EmbeddingResult:
        """Embed one text or a list of texts (long lists are split per request).

        Args:
            texts: A text, or texts whose vectors come back in the same order.
            model: Embedding model; by default the client's ``embedding_model``, else
                ``GLUELLM_DEFAULT_EMBEDDING_MODEL``.
            correlation_id: ID for this call's logs and records.
            timeout: Seconds one request may take.
            budget: Spending limit for this call.
            extra_params: Provider-specific parameters (``dimensions`` ...), sent as they are.

        Raises:
            ValueError: No text given, or an empty text.
            LLMError: A classified provider error.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items or not all(isinstance(t, str) and t for t in items):
            raise ValueError(
                "embed() needs a non-empty text or a non-empty list of non-empty texts."
            )
        _check_model(model)
        _check_timeout("timeout", timeout)
        runtime = self._runtime()
        settings = runtime.settings
        chosen = model or self.embedding_model or settings.default_embedding_model
        with correlation_scope(correlation_id) as cid:
            run = RunRequest(
                operation="embed",
                runtime=runtime,
                correlation_id=cid,
                model=chosen,
                input=tuple(items),
                # Sampling parameters mean nothing to an embedding model; extras do.
                options=dict(extra_params or {}),
                budget=budget or self.budget,
                eval_store=self.eval_store,
                parent=current_run(),
            )
            template = self._template(run, timeout, operation="embedding")

            async def body(request: RunRequest) -> EmbeddingResult:
                call = _for_request(template, request)
                return await run_embedding(call, request, runtime)

            result: EmbeddingResult = await execute_run(run, body)
            return result

    def _runtime(self) -> Runtime:
        if self.runtime is not None:
            return self.runtime
        parent = current_run()
        return parent.runtime if parent is not None else get_runtime()

    def _call_options(
        self,
        model: str | None,
        correlation_id: str | None,
        timeout: float | None,
        budget: Budget | None,
        params: CallParams,
    ) -> _CallOptions:
        _check_model(model)
        _check_timeout("timeout", timeout)
        return _CallOptions(
            model=model,
            correlation_id=correlation_id,
            timeout=timeout,
            params=_params(params),
            budget=budget,
        )

    async def _run(
        self,
        user_message: str,
        response_format: type[BaseModel] | None,
        execute_tools: bool,
        options: _CallOptions,
        operation: str,
    ) -> ToolExecutionResult:
        # correlation_scope without the context manager: this runs on every call.
        scoped_id, token = bind_correlation_id(options.correlation_id)
        try:
            prepared = self._prepare(
                user_message, response_format, execute_tools, options, scoped_id, operation
            )

            # A plain function returning the loop's coroutine: no frame of its own for
            # every resume of the call to pass through.
            def body(request: RunRequest) -> Awaitable[ToolExecutionResult]:
                template = _for_request(prepared.template, request)
                return run_tool_loop(
                    template, prepared.system, prepared.history, prepared.options, request.runtime
                )

            result: ToolExecutionResult = await execute_run(prepared.run, body)
        finally:
            unbind_correlation_id(token)
        self._remember_turn(prepared)
        return result

    def _remember_turn(self, prepared: _PreparedRun) -> None:
        """Commit a finished turn; only ever after success, so a failed call can be retried.

        A turn that started before `reset_conversation` is not committed to the fresh one.
        """
        if prepared.conversation is not None and prepared.conversation is self._conversation:
            prepared.conversation.extend_wire(prepared.history[prepared.remembered :])

    def _template(
        self,
        run: RunRequest,
        timeout: float | None,
        **fields: Any,
    ) -> ModelCall:
        """The call every turn of ``run`` starts from (messages filled in per turn).

        Built once, whole: ``attrs.evolve`` on a call costs microseconds each time.
        """
        settings = run.runtime.settings
        model = run.model or settings.default_model
        provider, model_name = split_model(model)
        return ModelCall(
            model=model,
            provider=provider,
            model_name=model_name,
            messages=(),
            options=run.options,
            api_key=self.api_key or settings.api_key_for(provider),
            base_url=self.base_url,
            timeout=timeout or self.timeout or settings.default_request_timeout,
            deadline=settings.default_call_deadline,
            correlation_id=run.correlation_id,
            api_keys=self.api_keys if self.api_key is None else (),
            run=run,
            **fields,
        )

    def _prepare(
        self,
        user_message: str,
        response_format: type[BaseModel] | None,
        execute_tools: bool,
        options: _CallOptions,
        correlation_id: str,
        operation: str,
    ) -> _PreparedRun:
        """Everything one run needs; the history is a copy ending with ``user_message``."""
        _check_user_message(user_message)
        runtime = self._runtime()
        settings = runtime.settings
        model = options.model or self.model or settings.default_model
        specs = self._current_tools()
        tools = as_tools(specs, runtime.tools) if specs else {}
        params = self.params.merged(options.params)
        if params.tool_choice is not None:
            params.check_tools(list(tools))
        system_prompt = self.system_prompt or settings.default_system_prompt
        system_text = _system_text(system_prompt, tuple(tools.values()))
        conversation = self.conversation if self._remember else None
        history: list[Message] = conversation.messages_dict if conversation is not None else []
        remembered = len(history)
        history.append({"role": "user", "content": user_message})
        loop_options = LoopOptions(
            tools=tools,
            execute_tools=execute_tools,
            max_tool_iterations=self.max_tool_iterations or settings.max_tool_iterations,
            response_format=response_format,
            structured_retries=settings.structured_output_max_retries,
        )
        system: list[Message] = [{"role": "system", "content": system_text}]
        run = RunRequest(
            operation=operation,
            runtime=runtime,
            correlation_id=correlation_id,
            model=model,
            user_message=user_message,
            system_prompt=system_prompt,
            messages=(*system, *history),
            tools=tuple(tools),
            response_format=response_format,
            options=params.as_options(),
            budget=options.budget or self.budget,
            eval_store=self.eval_store,
            parent=current_run(),
        )
        template = self._template(
            run,
            options.timeout,
            tools=[tool.definition() for tool in tools.values()],
            response_format=response_format,
        )
        return _PreparedRun(template, system, history, remembered, loop_options, conversation, run)

    async def stream_complete(
        self,
        user_message: str,
        execute_tools: bool = True,
        *,
        model: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        **params: Unpack[CallParams],
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
        options = self._call_options(model, correlation_id, timeout, budget, params)
        prepared = self._prepare(
            user_message,
            None,
            execute_tools,
            options,
            _resolve_correlation_id(correlation_id),
            "stream_complete",
        )
        async with contextlib.aclosing(await self._open_stream(prepared)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def stream_structured_complete(
        self,
        user_message: str,
        response_format: type[T],
        execute_tools: bool = True,
        *,
        model: str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
        budget: Budget | None = None,
        **params: Unpack[CallParams],
    ) -> AsyncGenerator[T, None]:
        """Like `structured_complete`, but yield partial instances as fields fill in.

        Partial instances are built without validation: fields that have not arrived
        are None (or their default), and ``model_fields_set`` names those that have.
        The last instance is fully validated, re-asked like `structured_complete`'s,
        and carries the run's metadata (``tool_calls_made``, ``tokens_used`` ...).

        Raises:
            TypeError: ``response_format`` is not a pydantic model class.
            StructuredOutputError: No answer validated within the allowed re-asks.
        """
        _check_response_format(response_format)
        options = self._call_options(model, correlation_id, timeout, budget, params)
        prepared = self._prepare(
            user_message,
            response_format,
            execute_tools,
            options,
            _resolve_correlation_id(correlation_id),
            "stream_structured_complete",
        )
        async with (
            contextlib.aclosing(await self._open_stream(prepared)) as chunks,
            contextlib.aclosing(stream_structured(chunks, response_format)) as instances,
        ):
            async for instance in instances:
                yield instance

    async def _open_stream(self, prepared: _PreparedRun) -> StreamedRun:
        """Start the streamed run: run middleware sees it now, its end when the stream ends."""
        started = time.perf_counter()

        async def body(request: RunRequest) -> StreamedRun:
            template = _for_request(prepared.template, request)
            return StreamedRun(request, self._stream(prepared, template), started)

        streamed: StreamedRun = await execute_run(prepared.run, body)
        return streamed

    async def _stream(
        self, prepared: _PreparedRun, template: ModelCall
    ) -> AsyncGenerator[StreamChunk, None]:
        # The correlation context variable is not held across yields (the reader's code
        # runs between them); the loop scopes it around each request and tool run.
        loop = stream_tool_loop(
            template,
            prepared.system,
            prepared.history,
            prepared.options,
            prepared.run.runtime,
        )
        async with contextlib.aclosing(loop) as chunks:
            async for chunk in chunks:
                if chunk.done:
                    # Commit before handing over the last chunk: a reader that stops
                    # once it sees ``done`` must still find the exchange remembered.
                    self._remember_turn(prepared)
                yield chunk


def _for_request(template: ModelCall, run: RunRequest) -> ModelCall:
    """The template for the run middleware finally passed on: its model and options win."""
    if template.run is run:  # no middleware changed the request: the common case
        return template
    call = attrs.evolve(template, run=run)
    if run.model is not None and run.model != template.model:
        provider, model_name = split_model(run.model)
        call = attrs.evolve(call, model=run.model, provider=provider, model_name=model_name)
    if run.options is not template.options and dict(run.options) != dict(template.options):
        call = attrs.evolve(call, options=dict(run.options))
    return call


def _resolve_correlation_id(given: str | None) -> str:
    """The caller's ID, else the enclosing call's, else a new one."""
    return given or get_correlation_id() or new_correlation_id()


class _PreparedRun(NamedTuple):
    """Everything one run needs (a tuple: built on every call)."""

    template: ModelCall
    system: list[Message]
    history: list[Message]
    remembered: int
    options: LoopOptions
    conversation: Conversation | None  # where the turn is committed; None: not remembered
    run: RunRequest


class _ClientArgs(TypedDict, total=False):
    api_key: str | None
    base_url: str | None
    timeout: float | None
    api_keys: Sequence[APIKeyConfig] | None
    eval_store: Any
    runtime: Runtime | None


def _one_off(
    model: str | None,
    system_prompt: str | None,
    tools: Sequence[ToolSpec] | None,
    max_tool_iterations: int | None,
    client_args: _ClientArgs,
) -> GlueLLM:
    """A client for one call: nothing to remember afterwards, so memory is skipped."""
    client = GlueLLM(model, system_prompt, tools, max_tool_iterations, **client_args)
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
    budget: Budget | None = None,
    eval_store: Any = None,
    runtime: Runtime | None = None,
    **params: Unpack[CallParams],
) -> ToolExecutionResult:
    """One-off completion with the tool loop; see `GlueLLM` for the arguments."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "api_keys": api_keys,
            "eval_store": eval_store,
            "runtime": runtime,
        },
    )
    # GlueLLM.complete's body without its frame (see GlueLLM._run's body).
    options = client._call_options(None, correlation_id, None, budget, params)
    return await client._run(user_message, None, execute_tools, options, "complete")


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
    budget: Budget | None = None,
    eval_store: Any = None,
    runtime: Runtime | None = None,
    **params: Unpack[CallParams],
) -> T:
    """One-off structured completion; returns a validated ``response_format`` instance."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "api_keys": api_keys,
            "eval_store": eval_store,
            "runtime": runtime,
        },
    )
    return await client.structured_complete(
        user_message,
        response_format,
        execute_tools,
        correlation_id=correlation_id,
        budget=budget,
        **params,
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
    budget: Budget | None = None,
    eval_store: Any = None,
    runtime: Runtime | None = None,
    **params: Unpack[CallParams],
) -> AsyncGenerator[StreamChunk, None]:
    """One-off streamed completion with the tool loop; see `GlueLLM.stream_complete`."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "api_keys": api_keys,
            "eval_store": eval_store,
            "runtime": runtime,
        },
    )
    stream = client.stream_complete(
        user_message, execute_tools, correlation_id=correlation_id, budget=budget, **params
    )
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
    budget: Budget | None = None,
    eval_store: Any = None,
    runtime: Runtime | None = None,
    **params: Unpack[CallParams],
) -> AsyncGenerator[T, None]:
    """One-off streamed structured completion; see `GlueLLM.stream_structured_complete`."""
    client = _one_off(
        model,
        system_prompt,
        tools,
        max_tool_iterations,
        {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "api_keys": api_keys,
            "eval_store": eval_store,
            "runtime": runtime,
        },
    )
    stream = client.stream_structured_complete(
        user_message,
        response_format,
        execute_tools,
        correlation_id=correlation_id,
        budget=budget,
        **params,
    )
    async with contextlib.aclosing(stream) as instances:
        async for instance in instances:
            yield instance


async def embed(
    texts: str | Sequence[str],
    model: str | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    api_keys: Sequence[APIKeyConfig] | None = None,
    correlation_id: str | None = None,
    budget: Budget | None = None,
    eval_store: Any = None,
    runtime: Runtime | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> EmbeddingResult:
    """Embed a text or a list of texts; see `GlueLLM.embed`.

    Args:
        texts: A text, or texts whose vectors come back in the same order.
        model: Embedding model; defaults to ``GLUELLM_DEFAULT_EMBEDDING_MODEL``.
        api_key: Key for the request(s).
        base_url: Endpoint override.
        timeout: Seconds one request may take.
        api_keys: A pool of keys (see `GlueLLM`).
        correlation_id: ID for this call's logs and records.
        budget: Spending limit.
        eval_store: Where eval plugins record this run.
        runtime: Plugins to use; by default the current runtime.
        extra_params: Provider-specific parameters (``dimensions`` ...).
    """
    client = _one_off(
        None,
        None,
        None,
        None,
        {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "api_keys": api_keys,
            "eval_store": eval_store,
            "runtime": runtime,
        },
    )
    return await client.embed(
        texts,
        model=model,
        correlation_id=correlation_id,
        budget=budget,
        extra_params=extra_params,
    )


async def warmup(
    *models: str,
    api_key: str | None = None,
    base_url: str | None = None,
    runtime: Runtime | None = None,
) -> None:
    """Pay a process's cold start now (at server boot), not in the first request.

    Loads GlueLLM's own modules (pydantic, the tool loop, settings), fires the plugins'
    ``startup`` hooks and waits for the background work they started (the prices
    plugin's price database, see `Runtime.add_warm_up`), and for each model awaits its
    transport's ``prepare``: the
    provider SDK is imported and the client built, in worker threads, for the running
    event loop. Call it on the loop that will serve the requests (clients are bound to
    their loop), e.g. in a web framework's startup handler.

    Args:
        *models: ``provider:model`` strings to get ready; by default
            ``GLUELLM_DEFAULT_MODEL``.
        api_key: Key the calls will use, if not the configured one.
        base_url: Endpoint the calls will use, if not the configured one.
        runtime: Plugins to use; by default the current runtime.

    Raises:
        ConfigurationError: No transport serves a model's provider, or its SDK is
            missing.
        AuthenticationError: A provider needs a key and none was found.
    """
    _load_engine()
    for model in models:
        _check_model(model)
    chosen = runtime or get_runtime()
    if not chosen.started:
        await chosen.startup()
    await chosen.watch_loop()
    await chosen.finish_warm_ups()
    settings = chosen.settings
    for model in models or (settings.default_model,):
        provider, model_name = split_model(model)
        transport = chosen.transport_for(provider)
        prepare = getattr(transport, "prepare", None)
        if prepare is None:
            continue
        await prepare(
            ModelCall(
                model=model,
                provider=provider,
                model_name=model_name,
                messages=(),
                api_key=api_key or settings.api_key_for(provider),
                base_url=base_url,
                timeout=settings.default_request_timeout,
            )
        )
