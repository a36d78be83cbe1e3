"""Which store records a run, and the run middleware that hands records over.

Precedence: the run's own store (``GlueLLM(eval_store=...)``, or an enclosing
workflow's or batch's) wins over the global store (`enable_file_recording`,
`enable_callback_recording`, `set_global_eval_store`), which wins over the store that
``GLUELLM_EVAL_RECORDING_ENABLED`` / ``GLUELLM_EVAL_RECORDING_PATH`` configure.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gluellm_plugins_eval.buffered import BufferedStore, flush_adapters, live_stores
from gluellm_plugins_eval.callback import CallbackStore, RecordCallback, UserStoreAdapter
from gluellm_plugins_eval.jsonl import JSONLFileStore
from gluellm_plugins_eval.records import SECRETS_KEY, PendingRecord, end_now

if TYPE_CHECKING:
    from gluellm.call import ModelCall
    from gluellm.protocols import EvalStore
    from gluellm.runs import RunHandler, RunMiddleware, RunRequest
    from gluellm.runtime import Runtime

_lock = threading.Lock()
_global_store: Any = None
_env_stores: dict[tuple[Any, ...], Any] = {}
_adapters: weakref.WeakKeyDictionary[Any, UserStoreAdapter] = weakref.WeakKeyDictionary()
_adapters_by_id: dict[int, tuple[Any, UserStoreAdapter]] = {}  # unhashable user stores
_env_errors: set[str] = set()


# --- the public wiring -------------------------------------------------------------


def set_global_eval_store(store: EvalStore | None) -> EvalStore | None:
    """Record every run that has no store of its own to ``store`` (None: stop).

    Args:
        store: Any `EvalStore`.

    Returns:
        The store it replaces (not closed: close it when you are done with it).
    """
    global _global_store
    with _lock:
        previous, _global_store = _global_store, store
    return previous  # type: ignore[no-any-return]


def get_global_eval_store() -> EvalStore | None:
    """The global store, if one is set."""
    return _global_store  # type: ignore[no-any-return]


def disable_recording() -> EvalStore | None:
    """Stop recording to the global store; return it (not closed).

    Runs with a store of their own, and the store configured by
    ``GLUELLM_EVAL_RECORDING_ENABLED``, still record.
    """
    return set_global_eval_store(None)


def enable_file_recording(
    file_path: str | Path = "logs/eval_records.jsonl", **options: Any
) -> JSONLFileStore:
    """Record every run to a JSONL file (the global store).

    Args:
        file_path: The file to append to; created with its folders.
        **options: `JSONLFileStore` options (``queue_size``, ``when_full``,
            ``record_timeout``, ``redact``).

    Returns:
        The store; ``await store.close()`` when done.
    """
    store = JSONLFileStore(file_path, **options)
    set_global_eval_store(store)
    return store


def enable_callback_recording(callback: RecordCallback, **options: Any) -> CallbackStore:
    """Give every run's record to ``callback`` (sync or async), as the global store.

    Args:
        callback: Called with each `EvalRecord`.
        **options: `CallbackStore` options (``concurrency``, ``queue_size``,
            ``when_full``, ``record_timeout``, ``redact``).

    Returns:
        The store; ``await store.close()`` when done.
    """
    store = CallbackStore(callback, **options)
    set_global_eval_store(store)
    return store


async def flush_configured_stores() -> None:
    """Flush the global store and the settings-built ones (a runtime is closing).

    Stores of your own are left to you: a slow one must not hold up the shutdown.
    """
    stores = [*env_stores(), _global_store]
    for store in stores:
        if isinstance(store, BufferedStore):
            await store.flush()


async def flush_recording() -> None:
    """Wait until every record handed over so far is stored, in every store.

    Stores stay open; use it before reading a file that is still being recorded to,
    or before closing a store of your own.
    """
    await flush_adapters()
    for store in live_stores():
        await store.flush()


# --- choosing the store ---------------------------------------------------------------


def sink_for(store: Any) -> BufferedStore:
    """The queue in front of ``store``: the store itself, or an adapter for a user's store."""
    if isinstance(store, BufferedStore):
        return store
    try:
        adapter = _adapters.get(store)
    except TypeError:  # unhashable
        held = _adapters_by_id.get(id(store))
        adapter = held[1] if held is not None and held[0] is store else None
    if adapter is None:
        with _lock:
            adapter = UserStoreAdapter(store)
            try:
                adapter = _adapters.setdefault(store, adapter)
            except TypeError:
                _adapters_by_id[id(store)] = (store, adapter)
    return adapter


def env_store(runtime: Runtime) -> Any:
    """The store ``GLUELLM_EVAL_RECORDING_ENABLED`` / ``_PATH`` configure, if enabled.

    One store per (kind, file, options), shared by every runtime of the process, so two
    runtimes never write the same file from two writers.
    """
    settings = runtime.settings
    if not settings.eval_recording_enabled:
        return None
    from gluellm_plugins_eval.settings import EvalSettings

    options = runtime.settings_for(EvalSettings)
    path = str(Path(settings.eval_recording_path).resolve())
    key = (
        options.eval_recording_store,
        path,
        options.eval_queue_size,
        options.eval_when_full,
        options.eval_record_timeout,
    )
    store = _env_stores.get(key)
    if store is not None:
        return store
    factory = runtime.eval_stores.get(options.eval_recording_store)
    if factory is None:
        _report_once(
            f"GLUELLM_EVAL_RECORDING_STORE={options.eval_recording_store!r} names no "
            f"registered eval store (registered: {', '.join(sorted(runtime.eval_stores))}); "
            "runs are not recorded."
        )
        return None
    try:
        if isinstance(factory, type) and issubclass(factory, BufferedStore):
            build: Any = factory
            store = build(
                path,
                queue_size=options.eval_queue_size,
                when_full=options.eval_when_full,
                record_timeout=options.eval_record_timeout,
            )
        else:
            store = factory(path)
    except Exception as error:
        _report_once(
            f"eval store {options.eval_recording_store!r} could not be built for "
            f"{path!r} ({type(error).__name__}: {error}); runs are not recorded."
        )
        return None
    if isinstance(store, BufferedStore):
        store.warn_unclosed = False  # nobody holds it to close it: exit flushes it quietly
    with _lock:
        return _env_stores.setdefault(key, store)


def env_stores() -> list[Any]:
    """The stores built from settings so far."""
    return list(_env_stores.values())


def _report_once(message: str) -> None:
    if message not in _env_errors:
        _env_errors.add(message)
        from loguru import logger

        logger.error(message)


def store_for(run: RunRequest) -> Any:
    """The store that records ``run``, or None when nothing does."""
    store = run.effective_eval_store()
    if store is None:
        store = _global_store
    if store is None:
        store = env_store(run.runtime)
    return store


# --- the hooks' work ----------------------------------------------------------------


def middleware_for(run: RunRequest) -> RunMiddleware | None:
    """The run middleware recording ``run``, or None when no store would take it."""
    store = store_for(run)
    if store is None:
        return None
    run.extensions[SECRETS_KEY] = set()
    return functools.partial(_record_run, sink_for(store))


async def _record_run(sink: BufferedStore, run: RunRequest, call_next: RunHandler) -> Any:
    from gluellm.runs import StreamedRun

    started = time.perf_counter()
    try:
        output = await call_next(run)
    except BaseException as error:
        _hand_over(sink, PendingRecord(run, end_now(run, None, error, started)))
        raise
    if isinstance(output, StreamedRun):
        # Recorded when the stream ends, however it ends (done, failed, closed early).
        output.add_done_callback(lambda end: _hand_over(sink, PendingRecord(run, end)))
        return output
    try:
        # Returns as soon as the record is queued; waits only on a full queue with
        # when_full="wait" (back-pressure instead of losing records).
        await sink.record(PendingRecord(run, end_now(run, output, None, started)))
    except Exception:
        _log_failure(sink, run)
    return output


def _hand_over(sink: BufferedStore, pending: PendingRecord) -> None:
    try:
        sink.record_nowait(pending)
    except Exception:
        _log_failure(sink, pending.run)


def _log_failure(sink: BufferedStore, run: RunRequest) -> None:
    from loguru import logger

    logger.exception(
        "eval store {!r} could not take the record of run {} (correlation ID {})",
        sink,
        run.run_id,
        run.correlation_id,
    )


def collect_keys(call: ModelCall) -> None:
    """Remember the API keys a recorded run's call uses, so its record masks them."""
    run = call.run
    keys: list[str] | None = None
    while run is not None:
        secrets = run.extensions.get(SECRETS_KEY)
        if secrets is not None:  # a recorded run: only those keep keys to mask
            if keys is None:
                keys = [call.api_key] if call.api_key else []
                keys += [k.key.get_secret_value() for k in call.api_keys]
            secrets.update(keys)
        run = run.parent
