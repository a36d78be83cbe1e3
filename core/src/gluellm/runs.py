"""Runs: one logical call (a ``complete()``, a stream, an embedding, a workflow ...).

A run wraps everything one call does: the tool loop's model turns, re-asks, tool
executions, or a workflow's steps. Plugins see it through two hooks:

- ``wrap_run(run)`` returns a `RunMiddleware`: ``async (run, call_next) -> output``. It
  sees the typed `RunRequest` before anything is sent and the output (or error) after.
  A streamed run's output is a `StreamedRun`: the middleware learns how and when the
  stream ended through `StreamedRun.add_done_callback`.
- ``on_run_end(run, end)`` observes every finished run with a `RunEnd`.

Runs nest: a run started while another is running (a workflow step, a batch item, an
agent called as a tool) has that run as ``parent``, so records and spans tie back to it.
`run_group` makes a run of any async body (workflows and batches use it).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

import attrs

from gluellm.call import Message, Usage
from gluellm.middleware import collect_middleware, layer

if TYPE_CHECKING:
    from gluellm.costs import Budget
    from gluellm.runtime import Runtime
    from gluellm.streaming import StreamChunk

T = TypeVar("T")

EMPTY: Mapping[str, Any] = MappingProxyType({})
"""A shared read-only empty mapping: the default ``options`` and ``metadata``."""

_run_id_prefix = os.urandom(8).hex()
_run_counter = itertools.count(1)


def new_run_id() -> str:
    """A unique run ID: 32 hex digits, a random half per process and a counter half.

    Unique across processes and hosts through the random half (reseeded in a forked
    child), and about a third of the cost of 16 random bytes per run.
    """
    return f"{_run_id_prefix}{next(_run_counter):016x}"


def _reseed_run_ids() -> None:
    global _run_id_prefix, _run_counter
    _run_id_prefix = os.urandom(8).hex()
    _run_counter = itertools.count(1)


os.register_at_fork(after_in_child=_reseed_run_ids)

RunStatus: TypeAlias = Literal["ok", "error", "cancelled", "closed"]
"""How a run ended: ``ok``; ``error`` (raised); ``cancelled`` (its task was cancelled);
``closed`` (a stream the reader stopped reading before its end)."""


@attrs.define
class RunStats:
    """What a run has spent so far; updated as each model turn finishes.

    A nested run's spending is added to every enclosing run's stats too, so a
    workflow's budget sees the spending of all its steps.
    """

    usage: Usage | None = None
    estimated_cost_usd: float | None = None
    model_calls: int = 0
    retries: int = 0
    tool_calls: int = 0

    def add_turn(self, usage: Usage | None, cost: float | None) -> None:
        """Count one finished model turn."""
        self.model_calls += 1
        if usage is not None:
            self.usage = usage if self.usage is None else self.usage + usage
        if cost is not None:
            self.estimated_cost_usd = (self.estimated_cost_usd or 0.0) + cost


# slots=False: built on every call, and a frozen class with a __dict__ builds in
# about half the time of a slotted one.
@attrs.frozen(kw_only=True, slots=False)
class RunRequest:
    """One logical call, as ``wrap_run`` middleware and ``on_run_end`` observers see it.

    Attributes:
        operation: ``complete``, ``structured_complete``, ``stream_complete``,
            ``stream_structured_complete``, ``embed``, or a group's kind (``workflow``,
            ``batch`` ...).
        runtime: The runtime the run uses (plugins, settings, registries).
        run_id: Unique ID of this run.
        correlation_id: The ID shared by the run's logs, model calls and records.
        model: The model string, or None for groups.
        user_message: The new user message (chat runs).
        system_prompt: The system prompt as configured (before tools are listed in it).
        messages: The conversation sent on the first turn, system message first.
        tools: Names of the tools the model may call.
        response_format: The pydantic model the answer must validate against, if any.
        input: The texts of an embedding run.
        options: Model parameters in wire form (``temperature``, ``tool_choice`` ...).
        budget: Spending limit of this run, if any.
        eval_store: The client's eval store (``GlueLLM(eval_store=...)``), if any.
        name: A name for the run (a workflow's pattern, a step's agent ...).
        parent: The enclosing run, if this one was started inside another.
        metadata: Caller-supplied data (workflow step, batch request ID ...).
        started_at: Wall-clock start (``time.time()``).
        stats: Spending so far (see `RunStats`); mutable.
        extensions: Scratch space for plugins, keyed by plugin (a tracer keeps its span
            here); mutable.
    """

    operation: str
    runtime: Runtime = attrs.field(repr=False)
    run_id: str = attrs.field(factory=new_run_id)
    correlation_id: str
    model: str | None = None
    user_message: str | None = None
    system_prompt: str | None = None
    messages: Sequence[Message] = attrs.field(default=(), repr=False)
    tools: Sequence[str] = ()
    response_format: type[Any] | None = None
    input: Sequence[str] = attrs.field(default=(), repr=False)
    options: Mapping[str, Any] = EMPTY
    budget: Budget | None = None
    eval_store: Any = attrs.field(default=None, repr=False)
    name: str | None = None
    parent: RunRequest | None = attrs.field(default=None, repr=False)
    metadata: Mapping[str, Any] = EMPTY
    started_at: float = attrs.field(factory=time.time)
    stats: RunStats = attrs.field(factory=RunStats, eq=False, repr=False)
    extensions: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def root(self) -> RunRequest:
        """The outermost enclosing run (this one when it has no parent)."""
        run = self
        while run.parent is not None:
            run = run.parent
        return run

    def lineage(self) -> list[RunRequest]:
        """This run and its enclosing runs, innermost first."""
        runs = []
        run: RunRequest | None = self
        while run is not None:
            runs.append(run)
            run = run.parent
        return runs

    def effective_eval_store(self) -> Any:
        """This run's eval store, else the nearest enclosing run's, else None."""
        for run in self.lineage():
            if run.eval_store is not None:
                return run.eval_store
        return None


@attrs.frozen(kw_only=True)
class RunEnd:
    """How a run ended; given to ``on_run_end`` and to `StreamedRun` callbacks.

    Attributes:
        run: The run.
        status: See `RunStatus`.
        output: What the run returned (a `ToolExecutionResult`, an
            `EmbeddingResult`, a workflow's result ...); for a stream, the
            `ToolExecutionResult` of its last chunk. None unless ``status`` is ``ok``.
        error: What the caller received, for ``error`` and ``cancelled`` runs.
        duration_s: Wall time from start to end (a stream's end, for streams).
        usage: Tokens summed over the run's model turns (nested runs included).
        estimated_cost_usd: Cost summed the same way, when prices are known.
    """

    run: RunRequest
    status: RunStatus
    output: Any = None
    error: BaseException | None = None
    duration_s: float
    usage: Usage | None = None
    estimated_cost_usd: float | None = None

    @property
    def success(self) -> bool:
        """Whether the run returned normally."""
        return self.status == "ok"


RunHandler: TypeAlias = Callable[[RunRequest], Awaitable[Any]]
"""Runs a run and returns its output: the next layer of run middleware."""

RunMiddleware: TypeAlias = Callable[[RunRequest, RunHandler], Awaitable[Any]]
"""A ``wrap_run`` layer: receives the run and the next handler, returns the output.

A middleware may pass an evolved request on (``attrs.evolve(run, model=...)``): core
honours the ``model``, ``options`` and ``budget`` of the request it finally receives.
"""

_current_run: ContextVar[RunRequest | None] = ContextVar("gluellm_current_run", default=None)


def current_run() -> RunRequest | None:
    """The run executing in this context (the parent of runs started now), if any."""
    return _current_run.get()


class StreamedRun:
    """The output of a streamed run: its chunks, plus a way to learn how it ended.

    Iterate it for the `StreamChunk` items. Callbacks added with `add_done_callback`
    run once when the stream ends, fails, or is closed before its end.

    Args:
        run: The run.
        chunks: The stream of chunks.
        started: ``time.perf_counter()`` when the run started.
    """

    def __init__(self, run: RunRequest, chunks: AsyncIterator[StreamChunk], started: float) -> None:
        self.run = run
        self._chunks = chunks
        self._started = started
        self._callbacks: list[Callable[[RunEnd], None]] = []
        self._end: RunEnd | None = None
        self._last_result: Any = None

    def __aiter__(self) -> StreamedRun:
        return self

    async def __anext__(self) -> StreamChunk:
        if self._end is not None:
            raise StopAsyncIteration
        token = _current_run.set(self.run)  # tools run inside the loop see their run
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            self._finish("ok", self._last_result, None)
            raise
        except BaseException as error:
            self._finish(_status_of(error), None, error)
            raise
        finally:
            _current_run.reset(token)
        if chunk.done:
            self._last_result = chunk.result
        return chunk

    async def aclose(self) -> None:
        """Stop the stream; a run not yet finished ends as ``closed``."""
        self._finish_early()
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    @property
    def end(self) -> RunEnd | None:
        """How the run ended, once it has."""
        return self._end

    def add_done_callback(self, callback: Callable[[RunEnd], None]) -> None:
        """Call ``callback(end)`` when the stream ends (at once if it already has).

        Callbacks run in the order added; one that raises is logged and skipped.
        """
        if self._end is not None:
            _safe_callback(callback, self._end)
        else:
            self._callbacks.append(callback)

    def __del__(self) -> None:
        # Dropped without being read to its end or closed: the run ended all the same,
        # and observers (a tracer holding the run's span open) must hear of it.
        with contextlib.suppress(Exception):  # never raise from a finalizer
            self._finish_early()

    def _finish_early(self) -> None:
        """End a run whose reader stopped: ``ok`` if it read the last chunk, else ``closed``."""
        if self._end is None:
            if self._last_result is not None:
                self._finish("ok", self._last_result, None)
            else:
                self._finish("closed", None, None)

    def _finish(self, status: RunStatus, output: Any, error: BaseException | None) -> None:
        if self._end is not None:
            return
        self._end = end_of(self.run, status, output, error, self._started)
        for callback in self._callbacks:
            _safe_callback(callback, self._end)
        self._callbacks.clear()


def _safe_callback(callback: Callable[[RunEnd], None], end: RunEnd) -> None:
    try:
        callback(end)
    except Exception:
        from loguru import logger

        logger.exception("a run's done-callback {!r} failed; skipped", callback)


def _status_of(error: BaseException) -> RunStatus:
    import asyncio

    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    return "error"


def end_of(
    run: RunRequest,
    status: RunStatus,
    output: Any,
    error: BaseException | None,
    started: float,
) -> RunEnd:
    """The `RunEnd` of ``run`` now."""
    return RunEnd(
        run=run,
        status=status,
        output=output,
        error=error,
        duration_s=time.perf_counter() - started,
        usage=run.stats.usage,
        estimated_cost_usd=run.stats.estimated_cost_usd,
    )


async def execute_run(run: RunRequest, body: RunHandler) -> Any:
    """Run ``body`` inside every ``wrap_run`` middleware and tell ``on_run_end``.

    Args:
        run: The run's request.
        body: Does the run's work given the (possibly evolved) request.

    Returns:
        What ``body`` (or a middleware) returned; a `StreamedRun` for streamed runs,
        whose end ``on_run_end`` observers hear about when the stream ends.
    """
    runtime = run.runtime
    handler = body
    if runtime.implements("wrap_run"):
        for middleware in reversed(collect_middleware(runtime, "wrap_run", run=run)):
            handler = layer(middleware, handler)
    observed = runtime.implements("on_run_end")
    started = time.perf_counter()
    token = _current_run.set(run)
    try:
        output = await handler(run)
    except BaseException as error:
        if observed:
            notify_run_end(end_of(run, _status_of(error), None, error, started))
        raise
    finally:
        _current_run.reset(token)
    if isinstance(output, StreamedRun):
        if observed:
            output.add_done_callback(notify_run_end)
    elif observed:
        notify_run_end(end_of(run, "ok", output, None, started))
    return output


def notify_run_end(end: RunEnd) -> None:
    """Tell ``on_run_end`` observers; their errors are logged, never raised."""
    from gluellm.plugins import call_each

    runtime = end.run.runtime
    call_each(runtime.plugin_manager, "on_run_end", run=end.run, end=end)


async def run_group(
    operation: str,
    body: Callable[[], Awaitable[T]],
    *,
    name: str | None = None,
    runtime: Runtime | None = None,
    model: str | None = None,
    budget: Budget | None = None,
    eval_store: Any = None,
    metadata: Mapping[str, Any] | None = None,
    correlation_id: str | None = None,
) -> T:
    """Run ``body`` as a run of its own, so runs started inside it nest under it.

    Workflows and batches use this: their steps' records and spans tie back to the
    group, and a ``budget`` here bounds the spending of everything inside.

    Args:
        operation: The group's kind (``workflow``, ``batch`` ...).
        body: The work; runs started inside it get this run as their parent.
        name: The group's name (a workflow's pattern, a batch's ID ...).
        runtime: Plugins to use; by default the current runtime.
        model: The model the group mostly uses, if one.
        budget: Spending limit for everything inside.
        eval_store: Where eval plugins record the group and its runs.
        metadata: Data for plugins and records.
        correlation_id: The group's correlation ID; by default the enclosing one or new.

    Returns:
        What ``body`` returned.
    """
    from gluellm.correlation import correlation_scope
    from gluellm.runtime import get_runtime

    parent = current_run()
    with correlation_scope(correlation_id) as cid:
        run = RunRequest(
            operation=operation,
            runtime=runtime or (parent.runtime if parent else get_runtime()),
            correlation_id=cid,
            model=model,
            budget=budget,
            eval_store=eval_store,
            name=name,
            parent=parent,
            metadata=dict(metadata or {}),
        )

        async def call_body(_run: RunRequest) -> T:
            return await body()

        result: T = await execute_run(run, call_body)
        return result
