"""Fixtures: a real MLflow tracking server (SQLite backend) receiving OTLP/HTTP spans.

MLflow lives in its own virtual environment (``.tools/mlflow``, made by
``make mlflow-venv``) so the workspace stays light. Without it these tests skip, or
fail when ``GLUELLM_REQUIRE_MLFLOW=1`` (CI sets it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_telemetry import plugin as telemetry_plugin
from gluellm_plugins_telemetry.api import configure_tracing, shutdown_tracing
from gluellm_plugins_telemetry.settings import TelemetrySettings

ROOT = Path(__file__).parents[2]
MLFLOW = Path(os.environ.get("GLUELLM_MLFLOW_VENV", ROOT / ".tools" / "mlflow")) / "bin" / "mlflow"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """A running MLflow server, and the REST reads the tests make against it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as answer:
            return json.loads(answer.read() or b"{}")

    def experiment_id(self, name: str) -> str | None:
        try:
            found = self.request(
                "GET", "/api/2.0/mlflow/experiments/get-by-name", experiment_name=name
            )
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        return str(found["experiment"]["experiment_id"])

    def create_experiment(self, name: str) -> str:
        return str(
            self.request("POST", "/api/2.0/mlflow/experiments/create", {"name": name})[
                "experiment_id"
            ]
        )

    def traces(self, experiment_name: str) -> list[dict[str, Any]]:
        """Every trace of the experiment, with its spans (attributes decoded)."""
        experiment_id = self.experiment_id(experiment_name)
        if experiment_id is None:
            return []
        location = {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        }
        found = self.request("POST", "/api/3.0/mlflow/traces/search", {"locations": [location]})
        traces = []
        for info in found.get("traces", []):
            full = self.request("GET", "/api/3.0/mlflow/traces/get", trace_id=info["trace_id"])
            trace = full["trace"]
            trace["spans"] = [_decode_span(span) for span in trace.get("spans", [])]
            traces.append(trace)
        return traces

    def runs(self, experiment_name: str) -> list[dict[str, Any]]:
        experiment_id = self.experiment_id(experiment_name)
        if experiment_id is None:
            return []
        found = self.request(
            "POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment_id]}
        )
        return list(found.get("runs", []))

    def metric_history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        found = self.request(
            "GET", "/api/2.0/mlflow/metrics/get-history", run_id=run_id, metric_key=key
        )
        return list(found.get("metrics", []))


def _value(value: dict[str, Any]) -> Any:
    for kind in ("string_value", "bool_value", "double_value"):
        if kind in value:
            return value[kind]
    if "int_value" in value:
        return int(value["int_value"])
    if "array_value" in value:
        return [_value(v) for v in value["array_value"].get("values", [])]
    return None


def _decode_span(span: dict[str, Any]) -> dict[str, Any]:
    span = dict(span)
    span["attrs"] = {a["key"]: _value(a["value"]) for a in span.get("attributes", [])}
    span["event_list"] = [
        {
            "name": e["name"],
            "attrs": {a["key"]: _value(a["value"]) for a in e.get("attributes", [])},
        }
        for e in span.get("events", [])
    ]
    return span


def wait_for(predicate: Any, timeout_s: float = 60.0) -> Any:
    """Poll until ``predicate()`` is truthy (MLflow stores spans asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` with a SQLite backend on a free loopback port."""
    if not MLFLOW.exists():
        message = f"MLflow is not installed at {MLFLOW}; run `make mlflow-venv`."
        if os.environ.get("GLUELLM_REQUIRE_MLFLOW") == "1":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(MLFLOW),
            "server",
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--default-artifact-root",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    server = MlflowServer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(server.url + "/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"mlflow server did not start:\n{(home / 'server.log').read_text()}"
                    )
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def experiment() -> str:
    """A fresh experiment name per test: tests never see each other's traces."""
    return f"gluellm-test-{uuid.uuid4().hex[:12]}"


def make_runtime(*plugins: Any, **settings: Any) -> Runtime:
    """A runtime with the any-llm transport, telemetry, and ``plugins``."""
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(telemetry_plugin, name="telemetry")
    for plugin in plugins:
        manager.register(plugin)
    return Runtime(
        manager,
        settings=Settings(_env_file=None, **settings),  # type: ignore[call-arg]
        plugin_settings=[TelemetrySettings(_env_file=None)],  # type: ignore[call-arg]
    )


@pytest.fixture
def tracing_settings(mlflow_server: MlflowServer, experiment: str) -> dict[str, Any]:
    return {
        "enable_tracing": True,
        "mlflow_tracking_uri": mlflow_server.url,
        "mlflow_experiment_name": experiment,
    }


@pytest.fixture
async def traced(
    fake_provider_env: Any, tracing_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    """A runtime whose calls are traced into the test's MLflow experiment."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    runtime = make_runtime(**tracing_settings)
    configure_tracing(runtime.settings, force=True)
    try:
        with use_runtime(runtime):
            yield runtime
    finally:
        await runtime.aclose()
        shutdown_tracing()
