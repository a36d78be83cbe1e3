"""The `GlueLLM` client: conversation memory, tools, structured output, streams, embeddings.

Every method starts a run (see `gluellm.runs`): ``wrap_run`` middleware and
``on_run_end`` observers see it whole, tool loop, re-asks and streams included.

Importing this module is cheap (no pydantic, no provider SDK): the tool loop, tools,
structured output, results and embeddings load when the first client is built
(`load_engine`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar, Unpack

import attrs

from gluellm._call_args import (
    CallOptions,
    CallParams,
    check_model,
    check_response_format,
    check_timeout,
    check_user_message,
    model_params,
    system_text,
    tool_for,
)
from gluellm.call import Message, ModelCall, new_correlation_id
from gluellm.correlation import (
    bind_correlation_id,
    correlation_scope,
    get_correlation_id,
    unbind_correlation_id,
)
from gluellm.costs import Budget
from gluellm.model_ids import split_model
from gluellm.params import NO_PARAMS
from gluellm.runs import RunRequest, StreamedRun, current_run, execute_run
from gluellm.runtime import Runtime, get_runtime

if TYPE_CHECKING:
    # Bound at runtime by `load_engine` (first client built, or first attribute access).
    from pydantic import BaseModel

    from gluellm.embeddings import EmbeddingResult, run_embedding
    from gluellm.models.batch import APIKeyConfig
    from gluellm.models.conversation import Conversation
    from gluellm.results import ToolExecutionResult, attach_run_metadata
    from gluellm.streaming import StreamChunk, stream_tool_loop
    from gluellm.structured_stream import stream_structured
    from gluellm.tool_loop import LoopOptions, run_tool_loop
    from gluellm.tools import Tool, as_tools

__all__ = ["GlueLLM", "ToolSpec"]

_LAZY = {
    "BaseModel": "pydantic",
    "EmbeddingResult": "gluellm.embeddings",
    "run_embedding": "gluellm.embeddings",
    "Conversation": "gluellm.models.conversation",
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


def load_engine() -> None:
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
        load_engine()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


T = TypeVar("T", bound="BaseModel")
ToolSpec: TypeAlias = "Callable[..., Any] | Tool | str"


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
            load_engine()
        if max_tool_iterations is not None and max_tool_iterations < 1:
            raise ValueError("max_tool_iterations must be at least 1.")
        check_model(model)
        check_model(embedding_model)
        check_timeout("timeout", timeout)
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
        self.params = model_params(params) or NO_PARAMS
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
                tool_for(t) if callable(t) and not isinstance(t, Tool) else t for t in self.tools
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
        check_response_format(response_format)
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
        check_model(model)
        check_timeout("timeout", timeout)
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
    ) -> CallOptions:
        check_model(model)
        check_timeout("timeout", timeout)
        return CallOptions(
            model=model,
            correlation_id=correlation_id,
            timeout=timeout,
            params=model_params(params),
            budget=budget,
        )

    async def _run(
        self,
        user_message: str,
        response_format: type[BaseModel] | None,
        execute_tools: bool,
        options: CallOptions,
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
        options: CallOptions,
        correlation_id: str,
        operation: str,
    ) -> _PreparedRun:
        """Everything one run needs; the history is a copy ending with ``user_message``."""
        check_user_message(user_message)
        runtime = self._runtime()
        settings = runtime.settings
        model = options.model or self.model or settings.default_model
        specs = self._current_tools()
        tools = as_tools(specs, runtime.tools) if specs else {}
        params = self.params.merged(options.params)
        if params.tool_choice is not None:
            params.check_tools(list(tools))
        system_prompt = self.system_prompt or settings.default_system_prompt
        rendered = system_text(system_prompt, tuple(tools.values()))
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
        system: list[Message] = [{"role": "system", "content": rendered}]
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
        check_response_format(response_format)
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
