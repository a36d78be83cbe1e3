"""The streaming batch runner, and the spec's `batch_complete` built on it.

Memory model: `stream_batch` runs ``max_concurrent`` worker coroutines that pull
requests from the input one at a time, as they free up. At any moment it holds at most
``max_concurrent`` requests in flight plus a small queue of finished results the
caller has not read yet (the queue is bounded too, so a slow reader slows the workers
instead of piling results up). Nothing proportional to the input's length is kept:
100,000 requests from a generator or a file run in the memory of a few hundred.

The whole batch is one run (``run_group("batch")``), and each request is a run nested
in it (``batch_request``, named by the request's ID, with the request's metadata), so
eval records and trace spans of a request tie back to its batch.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING, Any, TypeAlias

from loguru import logger

from gluellm_plugins_batch.models import (
    AnyBatchRequest,
    BatchConfig,
    BatchError,
    BatchErrorStrategy,
    BatchRequest,
    BatchResponse,
    BatchResult,
    BatchTotals,
    EmbeddingBatchRequest,
)

if TYPE_CHECKING:
    from gluellm.runtime import Runtime

RequestSource: TypeAlias = Iterable[AnyBatchRequest] | AsyncIterable[AnyBatchRequest]
"""What the runner takes: any iterable or async iterable of requests."""

_DONE = object()
_PROGRESS_EVERY_S = 5.0


def new_batch_id() -> str:
    """A fresh batch ID (``batch-`` and 12 hex digits)."""
    return f"batch-{uuid.uuid4().hex[:12]}"


class _Slots:
    """A counting semaphore that wakes one waiter in O(1).

    ``asyncio.Semaphore`` (3.11) scans its waiters on every release, which costs more
    than a request's own bookkeeping when hundreds of workers wait.
    """

    def __init__(self, count: int) -> None:
        self.free = count
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes straight to the waiter
                return
        self.free += 1


def _check_request(request: object) -> AnyBatchRequest:
    if isinstance(request, BatchRequest | EmbeddingBatchRequest):
        return request
    raise TypeError(
        f"a batch takes BatchRequest or EmbeddingBatchRequest items, got {request!r}. "
        "Wrap plain messages with BatchRequest(user_message=...) or use "
        "batch_complete_simple()."
    )


class _Batch:
    """One running batch: its workers, its stop flag and its result queue.

    Backpressure: a worker takes a slot before pulling a request and the reader frees
    it when it reads the result, so requests pulled but not yet read (in flight or
    waiting in the queue) never exceed ``2 * max_concurrent``.
    """

    def __init__(
        self, source: RequestSource, config: BatchConfig, runtime: Runtime | None, batch_id: str
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.batch_id = batch_id
        self.sync_items: Iterator[AnyBatchRequest] | None = None
        self.async_items: AsyncIterator[AnyBatchRequest] | None = None
        if isinstance(source, AsyncIterable):
            self.async_items = aiter(source)
        else:
            self.sync_items = iter(source)
        self.pulled = 0
        self.pull_lock = asyncio.Lock()
        self.slots = _Slots(2 * config.max_concurrent)
        self.exhausted = False
        self.stopped = False
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []
        self.busy: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        """Run every request through the worker pool, then mark the queue done."""
        count = self.config.max_concurrent
        self.workers = [asyncio.create_task(self._worker()) for _ in range(count)]
        try:
            done, _ = await asyncio.wait(self.workers, return_when=asyncio.FIRST_EXCEPTION)
            for worker in done:
                error = None if worker.cancelled() else worker.exception()
                if error is not None:
                    # The request source raised, or gave something that is not a request:
                    # stop everything and hand the error to the reader.
                    raise error
        finally:
            self.stopped = self.stopped or any(not w.done() for w in self.workers)
            for worker in self.workers:
                worker.cancel()
            await asyncio.gather(*self.workers, return_exceptions=True)
            self.queue.put_nowait(_DONE)

    def read(self, item: object) -> None:
        """The reader took ``item`` off the queue: free its slot."""
        if item is not _DONE:
            self.slots.release()

    async def _next(self) -> tuple[int, AnyBatchRequest] | None:
        await self.slots.acquire()
        if self.exhausted or self.stopped:
            self.slots.release()
            return None
        if self.sync_items is not None:  # next() cannot interleave: no lock needed
            request: object = next(self.sync_items, _DONE)
        else:
            assert self.async_items is not None
            async with self.pull_lock:  # one anext() at a time
                if self.exhausted or self.stopped:
                    self.slots.release()
                    return None
                request = await anext(self.async_items, _DONE)
        if request is _DONE:
            self.exhausted = True
            self.slots.release()
            return None
        index = self.pulled
        self.pulled += 1
        return index, _check_request(request)

    async def _worker(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while True:
            item = await self._next()
            if item is None:
                return
            index, request = item
            started = time.perf_counter()
            self.busy.add(task)
            try:
                result = await self._run_with_retry(index, request)
            except asyncio.CancelledError:
                if not self.stopped:
                    raise
                result = _cancelled(index, request, started, "the batch stopped (FAIL_FAST)")
                self.queue.put_nowait(result)
                return
            finally:
                self.busy.discard(task)
            self.queue.put_nowait(result)
            if not result.success and self.config.error_strategy is BatchErrorStrategy.FAIL_FAST:
                self._stop(request.id)
                return

    def _stop(self, failed_id: str) -> None:
        if self.stopped:
            return
        self.stopped = True
        logger.warning(
            "batch {}: request {!r} failed; FAIL_FAST stops launching and cancels the "
            "requests in flight",
            self.batch_id,
            failed_id,
        )
        for worker in list(self.busy):
            worker.cancel()

    async def _run_with_retry(self, index: int, request: AnyBatchRequest) -> BatchResult:
        result = await run_request(request, index, self.config, self.runtime, self.batch_id)
        if result.success or not self.config.retry_failed:
            return result
        logger.info(
            "batch {}: request {!r} failed ({}); retrying it once",
            self.batch_id,
            request.id,
            result.error_type,
        )
        retried = await run_request(request, index, self.config, self.runtime, self.batch_id)
        return retried.model_copy(
            update={"attempts": 2, "elapsed_time": result.elapsed_time + retried.elapsed_time}
        )


def _cancelled(index: int, request: AnyBatchRequest, started: float, why: str) -> BatchResult:
    return BatchResult(
        id=request.id,
        success=False,
        status="cancelled",
        error=f"cancelled: {why}",
        error_type="CancelledError",
        metadata=dict(request.metadata),
        elapsed_time=time.perf_counter() - started,
        index=index,
    )


def not_started(index: int, request: AnyBatchRequest) -> BatchResult:
    """The result of a request FAIL_FAST never launched."""
    return BatchResult(
        id=request.id,
        success=False,
        status="cancelled",
        error="cancelled: not started, the batch stopped (FAIL_FAST)",
        error_type="CancelledError",
        metadata=dict(request.metadata),
        index=index,
    )


async def run_request(
    request: AnyBatchRequest,
    index: int,
    config: BatchConfig,
    runtime: Runtime | None,
    batch_id: str,
) -> BatchResult:
    """Run one request as a run nested in the batch; never raises for its failure."""
    from gluellm.runs import run_group

    started = time.perf_counter()
    metadata = {**request.metadata, "batch_id": batch_id, "batch_request_id": request.id}
    try:
        if isinstance(request, EmbeddingBatchRequest):
            body: Any = _embedding_body(request, config, runtime, batch_id)
        else:
            body = _completion_body(request, config, runtime, batch_id)
        result: BatchResult = await run_group(
            "batch_request", body, name=request.id, runtime=runtime, metadata=metadata
        )
    except Exception as error:
        return BatchResult(
            id=request.id,
            success=False,
            status="error",
            error=str(error) or type(error).__name__,
            error_type=type(error).__name__,
            metadata=dict(request.metadata),
            elapsed_time=time.perf_counter() - started,
            index=index,
            model=request.model or config.model,
        )
    result.index = index  # results are built here, never shared: set, do not copy
    result.elapsed_time = time.perf_counter() - started
    return result


def _completion_body(
    request: BatchRequest, config: BatchConfig, runtime: Runtime | None, batch_id: str
) -> Any:
    async def body() -> BatchResult:
        from gluellm.api import complete

        output = await complete(
            request.user_message,
            model=request.model or config.model,
            system_prompt=request.system_prompt,
            tools=request.tools,
            execute_tools=request.execute_tools,
            max_tool_iterations=request.max_tool_iterations,
            timeout=request.timeout,
            api_keys=config.api_keys,
            correlation_id=f"{batch_id}/{request.id}",
            runtime=runtime,
        )
        return BatchResult(
            id=request.id,
            success=True,
            response=output.final_response,
            metadata=dict(request.metadata),
            tokens_used=output.tokens_used,
            estimated_cost_usd=output.estimated_cost_usd,
            tool_calls_made=output.tool_calls_made,
            tool_execution_history=output.tool_execution_history,
            pending_tool_calls=output.pending_tool_calls,
            model=output.model,
            result=output,
        )

    return body


def _embedding_body(
    request: EmbeddingBatchRequest, config: BatchConfig, runtime: Runtime | None, batch_id: str
) -> Any:
    async def body() -> BatchResult:
        from gluellm.api import embed

        output = await embed(
            request.input,
            model=request.model,
            timeout=request.timeout,
            api_keys=config.api_keys,
            correlation_id=f"{batch_id}/{request.id}",
            runtime=runtime,
        )
        tokens = output.tokens_used
        return BatchResult(
            id=request.id,
            success=True,
            metadata=dict(request.metadata),
            tokens_used={"prompt": tokens, "completion": 0, "total": tokens},
            estimated_cost_usd=output.estimated_cost_usd,
            model=output.model,
            embeddings=output.embeddings,
            result=output,
        )

    return body


def _check_pool(config: BatchConfig, runtime: Runtime | None) -> None:
    """A key pool needs the rate-limit plugin: without it the keys would be ignored."""
    if not config.api_keys:
        return
    from gluellm.errors import ConfigurationError
    from gluellm.runtime import get_runtime

    active = runtime or get_runtime()
    if not active.plugin_manager.hook.get_rate_limiter.get_hookimpls():
        raise ConfigurationError(
            "BatchConfig(api_keys=...) needs the rate-limit plugin, which spreads requests "
            "over the keys within each key's limits; it is not installed or is disabled. "
            "Install it with: pip install gluellm-plugins-aiolimiter"
        )
    if not active.settings.rate_limit_enabled:
        logger.warning(
            "BatchConfig(api_keys=...) is ignored while GLUELLM_RATE_LIMIT_ENABLED=false: "
            "key pools are managed by the rate limiter"
        )


async def stream_batch(
    requests: RequestSource,
    config: BatchConfig | None = None,
    *,
    runtime: Runtime | None = None,
    batch_id: str | None = None,
) -> AsyncGenerator[BatchResult, None]:
    """Run requests with at most ``config.max_concurrent`` in flight; yield results as they end.

    Takes any iterable or async iterable (a list, a generator, lines of a file) and
    pulls from it only as slots free up, so memory stays bounded whatever its length.
    Results arrive in completion order; `BatchResult.index` is the request's position.
    Stop reading (``aclose()`` or leave an ``async with contextlib.aclosing(...)``
    block) to cancel the requests in flight.

    Args:
        requests: `BatchRequest` / `EmbeddingBatchRequest` items.
        config: Concurrency, error strategy, retry and key pool; defaults to `BatchConfig()`.
        runtime: Plugins to use; by default the current runtime.
        batch_id: The batch's ID; a new one when not given.

    Yields:
        One `BatchResult` per request launched. With FAIL_FAST, the failure, the
        requests it cancelled, and nothing after; requests never launched are not
        yielded (and were never read from ``requests``).

    Raises:
        ConfigurationError: A key pool was given without the rate-limit plugin.
    """
    from gluellm.runs import run_group

    config = config or BatchConfig()
    _check_pool(config, runtime)
    bid = batch_id or new_batch_id()
    batch = _Batch(requests, config, runtime, bid)
    metadata = {"batch_id": bid, "max_concurrent": config.max_concurrent}
    task = asyncio.create_task(
        run_group("batch", batch.run, name=bid, runtime=runtime, metadata=metadata)
    )
    progress = _ProgressLog(bid) if config.show_progress else None
    try:
        while True:
            item = await batch.queue.get()
            batch.read(item)
            if item is _DONE:
                break
            assert isinstance(item, BatchResult)
            if progress is not None:
                progress.add(item)
            yield item
        await task  # re-raises a failure of the runner itself
    finally:
        if not task.done():  # the reader stopped early: cancel what is in flight
            batch.stopped = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _ProgressLog:
    """``show_progress``: a log line every few seconds."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        self.totals = BatchTotals()
        self.started = self.last = time.perf_counter()

    def add(self, result: BatchResult) -> None:
        self.totals.add(result)
        now = time.perf_counter()
        if now - self.last >= _PROGRESS_EVERY_S:
            self.last = now
            rate = self.totals.done / max(now - self.started, 1e-9)
            logger.info(
                "batch {}: {} done, {} failed, {:.1f} req/s",
                self.batch_id,
                self.totals.done,
                self.totals.failed,
                rate,
            )


async def batch_complete(
    requests: Sequence[AnyBatchRequest] | Iterable[AnyBatchRequest],
    config: BatchConfig | None = None,
    *,
    runtime: Runtime | None = None,
    batch_id: str | None = None,
) -> BatchResponse:
    """Run a batch and return every result, in input order, with the totals.

    Built on `stream_batch`; holds every result, so for inputs too large to keep in
    memory read `stream_batch` (or use `run_jsonl`) instead.

    Args:
        requests: `BatchRequest` (or `EmbeddingBatchRequest`) items.
        config: See `BatchConfig`; defaults to 5 at once, CONTINUE, no retry.
        runtime: Plugins to use; by default the current runtime.
        batch_id: The batch's ID; a new one when not given.

    Returns:
        The `BatchResponse`. With FAIL_FAST, requests cancelled or never started have
        results with ``status="cancelled"``.

    Raises:
        BatchError: With COLLECT, when any request failed; it carries every failure
            and the response.
    """
    config = config or BatchConfig()
    items = [_check_request(r) for r in requests]
    started = time.perf_counter()
    bid = batch_id or new_batch_id()
    results: list[BatchResult | None] = [None] * len(items)
    async with contextlib.aclosing(stream_batch(items, config, runtime=runtime, batch_id=bid)) as s:
        async for result in s:
            assert result.index is not None
            results[result.index] = result
    final = [r if r is not None else not_started(i, items[i]) for i, r in enumerate(results)]
    response = BatchResponse.from_results(final, time.perf_counter() - started, bid)
    if config.error_strategy is BatchErrorStrategy.COLLECT and response.failed_requests:
        raise BatchError(response)
    return response


async def batch_complete_simple(
    messages: Sequence[str],
    model: str | None = None,
    config: BatchConfig | None = None,
    *,
    system_prompt: str | None = None,
    runtime: Runtime | None = None,
) -> list[str]:
    """Answer each message; return the answers in input order.

    Args:
        messages: The user messages.
        model: ``provider:model`` for every message; else `BatchConfig.model`, else
            ``GLUELLM_DEFAULT_MODEL``.
        config: See `BatchConfig`.
        system_prompt: Instructions for every message.
        runtime: Plugins to use; by default the current runtime.

    Returns:
        One string per message: the answer, or ``"Error: <message>"`` for a request
        that failed (``"Cancelled: ..."`` for one FAIL_FAST stopped).

    Raises:
        BatchError: With COLLECT, when any request failed.
    """
    requests = [
        BatchRequest(id=f"msg-{i}", user_message=m, model=model, system_prompt=system_prompt)
        for i, m in enumerate(messages)
    ]
    response = await batch_complete(requests, config, runtime=runtime)
    return [_answer(r) for r in response.results]


def _answer(result: BatchResult) -> str:
    if result.success:
        return result.response or ""
    if result.status == "cancelled":
        return f"Cancelled: {result.error}"
    return f"Error: {result.error}"


__all__ = [
    "BatchError",
    "batch_complete",
    "batch_complete_simple",
    "new_batch_id",
    "run_request",
    "stream_batch",
]
