"""The public API: `complete`, `structured_complete`, `embed` and the `GlueLLM` client.

Every function here starts a run (see `gluellm.runs`): ``wrap_run`` middleware and
``on_run_end`` observers see it whole, tool loop, re-asks and streams included.

The client lives in `gluellm.client`, and the checks of what callers pass in
`gluellm._call_args`; both are re-exported here, where the spec imports them from.
Importing this module is cheap (no pydantic, no provider SDK): the tool loop, tools,
structured output, results and embeddings load when the first client is built
(`gluellm.client.load_engine`), and `ToolExecutionResult`, `EmbeddingResult` and
`StreamChunk` are importable from here as before (module ``__getattr__``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from gluellm import client as _client
from gluellm._call_args import CallParams, check_model
from gluellm.call import ModelCall
from gluellm.client import GlueLLM, ToolSpec, load_engine
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
from gluellm.params import ModelParams
from gluellm.runtime import Runtime, get_runtime

if TYPE_CHECKING:
    from gluellm.client import T
    from gluellm.embeddings import EmbeddingResult
    from gluellm.models.batch import APIKeyConfig
    from gluellm.results import ToolExecutionResult
    from gluellm.streaming import StreamChunk

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


_LAZY_EXPORTS = frozenset({"EmbeddingResult", "StreamChunk", "ToolExecutionResult"})
"""Result types importable from here as before; they live in pydantic-heavy modules."""


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        load_engine()
        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    load_engine()
    for model in models:
        check_model(model)
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
