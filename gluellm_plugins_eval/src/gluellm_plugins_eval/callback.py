"""Stores delivered on the event loop: callbacks, fan-out, and users' own stores."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from gluellm_plugins_eval.buffered import BufferedStore, register_adapter
from gluellm_plugins_eval.looped import LoopStore

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord
    from gluellm.protocols import EvalStore

RecordCallback = Callable[["EvalRecord"], "Awaitable[None] | None"]
"""A function given each record: sync or async."""


class CallbackStore(LoopStore):
    """Calls ``callback(record)`` for every record, in the background.

    The callback may be sync (run in a worker thread, so it cannot block the event
    loop) or async (awaited on the loop where the run finished). One that raises or
    runs past ``record_timeout`` is logged with the record's correlation ID and counted
    (``stats.failed`` / ``stats.timed_out``); the run it records is never affected.

    Args:
        callback: The function to call.
        concurrency: Callbacks running at the same time, per event loop.
        **options: ``queue_size``, ``when_full``, ``record_timeout``, ``redact``
            (see `gluellm_plugins_eval.buffered.BufferedStore`).
    """

    def __init__(self, callback: RecordCallback, *, concurrency: int = 8, **options: Any) -> None:
        super().__init__(concurrency=concurrency, **options)
        self.callback = callback
        self._is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - async callable objects
        )
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def _bounds_itself(self) -> bool:
        return not self._is_async

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="gluellm-eval-callback"
            )
        return self._executor

    def __repr__(self) -> str:
        return f"CallbackStore({getattr(self.callback, '__qualname__', self.callback)!r})"

    async def _deliver(self, record: EvalRecord) -> None:
        if self._is_async:
            await self.callback(record)  # type: ignore[misc]
            return
        # In a thread of the store's own pool: a slow or blocking callback never holds
        # up the event loop, nor the default executor that sync tools run in.
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._pool(), contextvars.copy_context().run, self.callback, record
        )
        deadline = loop.time() + self.record_timeout
        try:
            await asyncio.wait({future}, timeout=self.record_timeout)
        except asyncio.CancelledError:
            # The loop is shutting down while the callback runs in its thread: let it
            # finish (it cannot be interrupted) so the record is delivered exactly once.
            await asyncio.wait({future}, timeout=max(0.0, deadline - loop.time()))
        if not future.done():
            raise TimeoutError  # abandoned; its thread finishes on its own
        result = future.result()
        if inspect.isawaitable(result):  # a sync function that returned a coroutine
            await result


class MultiStore(LoopStore):
    """Fans every record out to several stores at once.

    Each store gets every record; one that raises or hangs is logged and counted in
    ``failures`` under its position, and never stops the others. ``close()`` flushes
    and closes them all.

    Args:
        stores: The stores (built-in or any `EvalStore`).
        **options: ``concurrency``, ``queue_size``, ``when_full``, ``record_timeout``,
            ``redact`` (see `gluellm_plugins_eval.buffered.BufferedStore`).
    """

    def __init__(self, stores: Sequence[EvalStore], **options: Any) -> None:
        super().__init__(**options)
        self.stores = list(stores)
        self.failures = [0] * len(self.stores)

    def __repr__(self) -> str:
        return f"MultiStore({self.stores!r})"

    async def _deliver(self, record: EvalRecord) -> None:
        outcomes = await asyncio.gather(
            *(self._one(store, record) for store in self.stores), return_exceptions=True
        )
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                self.failures[index] += 1
                from loguru import logger

                logger.opt(exception=outcome).warning(
                    "{}: store {!r} failed to take a record (correlation ID {})",
                    self,
                    self.stores[index],
                    record.correlation_id,
                )

    async def _one(self, store: EvalStore, record: EvalRecord) -> None:
        # Built-in stores only queue here; a user's store is bounded by our timeout.
        if isinstance(store, BufferedStore):
            await store.record(record)
        else:
            async with asyncio.timeout(self.record_timeout):
                await store.record(record)

    async def close(self) -> None:
        """Deliver everything queued, then flush and close every store."""
        await super().close()
        outcomes = await asyncio.gather(
            *(store.close() for store in self.stores), return_exceptions=True
        )
        for store, outcome in zip(self.stores, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                from loguru import logger

                logger.opt(exception=outcome).warning("{}: closing {!r} failed", self, store)


class UserStoreAdapter(LoopStore):
    """The queue in front of a user's `EvalStore`: its ``record`` runs in the background.

    Each ``record`` call is bounded by ``record_timeout``.

    The eval plugin makes one per user store. Built-in stores flush adapters before
    they close, so a user store that wraps a built-in one (the spec's
    ``ConditionalStore``) loses nothing when it is closed. To wait for a user store's
    records yourself, ``await gluellm.eval.flush_recording()``.

    Args:
        store: The user's store.
        **options: See `gluellm_plugins_eval.buffered.BufferedStore`.
    """

    warn_unclosed = False  # users close their own store, not this adapter

    def __init__(self, store: EvalStore, **options: Any) -> None:
        super().__init__(**options)
        self.store = store
        register_adapter(self)

    def __repr__(self) -> str:
        return f"UserStoreAdapter({self.store!r})"

    async def _deliver(self, record: EvalRecord) -> None:
        await self.store.record(record)
