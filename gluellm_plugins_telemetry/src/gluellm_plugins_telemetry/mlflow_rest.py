"""A small MLflow REST client and the worker thread that logs run metrics.

MLflow's own client is heavy (mlflow-skinny pulls in dozens of packages); GlueLLM needs
five REST calls, made with urllib on a daemon thread so logging never blocks the event
loop. Authentication follows MLflow's variables: ``MLFLOW_TRACKING_TOKEN``, or
``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD``.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import json
import os
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from loguru import logger

AUTO_RUN_NAME = "gluellm_auto_metrics"
"""The run GlueLLM logs to when no `mlflow_run_context` is active (the spec's name)."""


class MlflowError(RuntimeError):
    """The MLflow server answered a request with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"MLflow answered HTTP {status} {code}: {message}")
        self.status = status
        self.code = code


class MlflowRestClient:
    """The handful of MLflow tracking REST calls GlueLLM makes (blocking; use off-loop).

    Args:
        tracking_uri: The server, e.g. ``http://localhost:5000``.
        timeout_s: Seconds one request may take.
    """

    def __init__(self, tracking_uri: str, timeout_s: float = 10.0) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.timeout_s = timeout_s
        self._experiments: dict[str, str] = {}
        self._lock = threading.Lock()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user:
            password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request to ``/api/...``; return the decoded JSON answer.

        Raises:
            MlflowError: The server answered with an error status.
            OSError: The server could not be reached.
        """
        url = f"{self.tracking_uri}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=self._headers())
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            detail: dict[str, Any] = {}
            with contextlib.suppress(ValueError):
                detail = json.loads(error.read() or b"{}")
            raise MlflowError(
                error.code, str(detail.get("error_code", "")), str(detail.get("message", ""))
            ) from None
        decoded: dict[str, Any] = json.loads(raw or b"{}")
        return decoded

    def experiment_id(self, name: str) -> str:
        """The ID of the experiment called ``name``, created if it does not exist."""
        with self._lock:
            if name in self._experiments:
                return self._experiments[name]
            try:
                found = self.request(
                    "GET",
                    "/api/2.0/mlflow/experiments/get-by-name",
                    query={"experiment_name": name},
                )
                experiment_id = str(found["experiment"]["experiment_id"])
            except MlflowError as error:
                if error.code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                try:
                    created = self.request(
                        "POST", "/api/2.0/mlflow/experiments/create", {"name": name}
                    )
                    experiment_id = str(created["experiment_id"])
                except MlflowError as race:  # another process created it meanwhile
                    if race.code != "RESOURCE_ALREADY_EXISTS":
                        raise
                    found = self.request(
                        "GET",
                        "/api/2.0/mlflow/experiments/get-by-name",
                        query={"experiment_name": name},
                    )
                    experiment_id = str(found["experiment"]["experiment_id"])
            self._experiments[name] = experiment_id
            return experiment_id

    def create_run(self, experiment_id: str, name: str, tags: Mapping[str, str]) -> str:
        """Start a run; return its ID."""
        body = {
            "experiment_id": experiment_id,
            "run_name": name,
            "start_time": int(time.time() * 1000),
            "tags": [{"key": k, "value": str(v)} for k, v in tags.items()],
        }
        created = self.request("POST", "/api/2.0/mlflow/runs/create", body)
        return str(created["run"]["info"]["run_id"])

    def log_batch(
        self,
        run_id: str,
        metrics: list[dict[str, Any]],
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> None:
        """Log metrics, parameters and tags to a run in one request."""
        body = {
            "run_id": run_id,
            "metrics": metrics,
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        self.request("POST", "/api/2.0/mlflow/runs/log-batch", body)

    def end_run(self, run_id: str, status: str) -> None:
        """Mark a run ``FINISHED`` or ``FAILED``."""
        body = {"run_id": run_id, "status": status, "end_time": int(time.time() * 1000)}
        self.request("POST", "/api/2.0/mlflow/runs/update", body)


class RunHandle:
    """An MLflow run GlueLLM logs to; created on the server by the worker thread.

    Attributes:
        name: The run's name.
        tags: Tags set when the run is created.
        run_id: The server's ID, once created (None before, or if creating failed).
    """

    def __init__(self, name: str, tags: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.tags = dict(tags or {})
        self.run_id: str | None = None
        self.step = 0
        self._params: dict[str, str] = {}
        self._failed = False

    def ensure(self, client: MlflowRestClient, experiment_id: str) -> str | None:
        """Create the run on the server the first time (worker thread only)."""
        if self.run_id is None and not self._failed:
            tags = {"mlflow.source.name": "gluellm", **self.tags}
            try:
                self.run_id = client.create_run(experiment_id, self.name, tags)
            except Exception:
                self._failed = True
                raise
        return self.run_id

    def split_params(self, params: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """New parameters, and changed ones (logged as tags: MLflow params are immutable)."""
        new, changed = {}, {}
        for key, value in params.items():
            if key not in self._params:
                self._params[key] = value
                new[key] = value
            elif self._params[key] != value:
                changed[key] = value
        return new, changed


_active_run: contextvars.ContextVar[RunHandle | None] = contextvars.ContextVar(
    "gluellm_mlflow_run", default=None
)

_STOP = object()


class MlflowMetricsLogger:
    """Logs each model call's metrics to MLflow from a daemon thread, in order.

    Args:
        client: The REST client.
        experiment_name: The experiment the runs belong to.
    """

    def __init__(self, client: MlflowRestClient, experiment_name: str) -> None:
        self.client = client
        self.experiment_name = experiment_name
        self.auto_run = RunHandle(AUTO_RUN_NAME)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self.failures = 0

    def submit(self, task: Callable[[], None]) -> None:
        """Run ``task`` on the worker thread, after every task submitted before it."""
        if self._thread is None:
            with self._thread_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._work, name="gluellm-mlflow", daemon=True
                    )
                    self._thread.start()
        self._queue.put(task)

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            try:
                if task is _STOP:
                    return
                task()
            except Exception as error:
                self.failures += 1
                logger.warning("logging metrics to MLflow failed: {}", error)
            finally:
                self._queue.task_done()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every submitted task ran; False on timeout."""
        with self._queue.all_tasks_done:
            return self._queue.all_tasks_done.wait_for(
                lambda: self._queue.unfinished_tasks == 0, timeout_s
            )

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush and stop the worker thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self.flush(timeout_s)
            self._thread.join(timeout_s)
            self._thread = None

    def log_call(
        self, metrics: Mapping[str, float], params: Mapping[str, str], run: RunHandle | None
    ) -> None:
        """Queue one model call's metrics for ``run`` (or the automatic run)."""
        handle = run or _active_run.get() or self.auto_run
        handle.step += 1
        step = handle.step
        timestamp = int(time.time() * 1000)
        new, changed = handle.split_params(params)

        def send() -> None:
            experiment_id = self.client.experiment_id(self.experiment_name)
            run_id = handle.ensure(self.client, experiment_id)
            if run_id is None:
                return
            rows = [
                {"key": key, "value": float(value), "timestamp": timestamp, "step": step}
                for key, value in metrics.items()
            ]
            self.client.log_batch(run_id, rows, new, changed)

        self.submit(send)

    def start_run(self, handle: RunHandle) -> None:
        """Queue the creation of ``handle``'s run."""

        def create() -> None:
            handle.ensure(self.client, self.client.experiment_id(self.experiment_name))

        self.submit(create)

    def end_run(self, handle: RunHandle, status: str) -> None:
        """Queue the end of ``handle``'s run, if it was created."""

        def end() -> None:
            if handle.run_id is not None:
                self.client.end_run(handle.run_id, status)

        self.submit(end)


@contextlib.contextmanager
def run_context(
    name: str,
    tags: Mapping[str, str] | None,
    current_logger: Callable[[], MlflowMetricsLogger | None],
) -> Iterator[RunHandle]:
    """Make a new MLflow run the active one inside the block (see `mlflow_run_context`).

    ``current_logger`` is asked on entry and on exit, so tracing switched on inside
    the block still ends the run it created.
    """
    handle = RunHandle(name, tags)
    logger_ = current_logger()
    if logger_ is not None:
        logger_.start_run(handle)
    token = _active_run.set(handle)
    status = "FINISHED"
    try:
        yield handle
    except BaseException:
        status = "FAILED"
        raise
    finally:
        _active_run.reset(token)
        logger_ = current_logger()
        if logger_ is not None:
            logger_.end_run(handle, status)


def active_run() -> RunHandle | None:
    """The run opened by the innermost `mlflow_run_context` in this context, if any."""
    return _active_run.get()
