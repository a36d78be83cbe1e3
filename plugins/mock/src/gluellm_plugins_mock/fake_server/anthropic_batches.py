"""Anthropic's Message Batches endpoints, so Message Batches clients can be tested.

Endpoints (with and without the ``/v1`` prefix): ``POST /messages/batches``,
``GET /messages/batches``, ``GET /messages/batches/{id}``,
``GET /messages/batches/{id}/results`` (JSONL), ``POST /messages/batches/{id}/cancel``.

A created batch runs on the server's event loop: each request's ``params`` is answered
like an Anthropic messages request (recorded in ``server.requests`` with the header
``x-fake-batch-id`` and consuming scripted steps and the responder the same way); a
status fault becomes an ``errored`` result with Anthropic's error body. Then the batch
``ended`` with a ``results_url``. Cancelling a running batch moves it to ``canceling``,
then ``ended`` with the unanswered requests ``canceled``. Set
`AnthropicBatchStore.hold` to keep new batches ``in_progress`` until
`AnthropicBatchStore.release` (to test polling and cancelling).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gluellm_plugins_mock.fake_server import anthropic_wire
from gluellm_plugins_mock.fake_server.batches import BATCH_HEADER, BatchStore, _new_id, _Route
from gluellm_plugins_mock.fake_server.defaults import default_reply, estimate_usage
from gluellm_plugins_mock.fake_server.errors import anthropic_error
from gluellm_plugins_mock.fake_server.playback import json_response, request_id
from gluellm_plugins_mock.fake_server.steps import (
    DelayFault,
    FakeReply,
    RecordedRequest,
    StatusFault,
    Step,
)

if TYPE_CHECKING:
    from gluellm_plugins_mock.fake_server.server import FakeProviderServer


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, kind: str, message: str) -> web.Response:
    rid = request_id()
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": rid}
    return json_response(body, {"request-id": rid}, status)


class AnthropicBatchStore(BatchStore):
    """Message batches of one fake server (``hold`` / `release` / `reset` as `BatchStore`).

    Attributes:
        batches: Batch objects by ID (the JSON the API returns, ``results_url`` aside).
        results: Each ended batch's result lines, in the order they were answered.
    """

    def __init__(self, server: FakeProviderServer) -> None:
        super().__init__(server)
        self.results: dict[str, list[dict[str, Any]]] = {}

    def reset(self) -> None:
        """Forget batches and results; stop running batches; stop holding."""
        super().reset()
        self.results.clear()

    def routes(self) -> dict[tuple[str, str], _Route]:
        """The fixed-path routes, for the server's route table."""
        table: dict[tuple[str, str], _Route] = {}
        for prefix in ("/v1", ""):
            table[("POST", f"{prefix}/messages/batches")] = self._create
            table[("GET", f"{prefix}/messages/batches")] = self._list
        return table

    def route(self, method: str, path: str) -> _Route | None:
        """The route for a path with a batch ID in it, or None."""
        parts = path.removeprefix("/v1").strip("/").split("/")
        if parts[:2] != ["messages", "batches"] or len(parts) < 3:
            return None
        batch_id, rest = parts[2], parts[3:]
        if method == "GET" and not rest:
            return lambda request, record: self._get_batch(request, batch_id)
        if method == "GET" and rest == ["results"]:
            return lambda request, record: self._results(batch_id)
        if method == "POST" and rest == ["cancel"]:
            return lambda request, record: self._cancel_batch(request, batch_id)
        return None

    def _view(self, request: web.BaseRequest, batch: dict[str, Any]) -> web.Response:
        body = dict(batch)
        if batch["processing_status"] == "ended":
            url = f"{request.scheme}://{request.host}/v1/messages/batches/{batch['id']}/results"
            body["results_url"] = url
        return json_response(body, {"request-id": request_id()})

    async def _create(self, request: web.BaseRequest, record: RecordedRequest) -> web.Response:
        entries = record.body.get("requests")
        if not isinstance(entries, list) or not entries:
            return _error(400, "invalid_request_error", "requests: field required")
        ids = [e.get("custom_id") if isinstance(e, dict) else None for e in entries]
        if any(not isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
            return _error(400, "invalid_request_error", "custom_id must be unique strings")
        now = datetime.now(UTC)
        batch: dict[str, Any] = {
            "id": _new_id("msgbatch"),
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {
                "processing": len(entries),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "ended_at": None,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "expires_at": datetime.fromtimestamp(now.timestamp() + 86400, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
        }
        self.batches[batch["id"]] = batch
        gate = self._gates[batch["id"]] = asyncio.Event()
        if not self.hold:
            gate.set()
        self._tasks[batch["id"]] = asyncio.get_running_loop().create_task(
            self._run(batch, entries, gate)
        )
        return self._view(request, batch)

    async def _list(self, request: web.BaseRequest, record: RecordedRequest) -> web.Response:
        data = sorted(self.batches.values(), key=lambda b: b["id"], reverse=True)
        body = {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
        return json_response(body, {"request-id": request_id()})

    async def _get_batch(self, request: web.BaseRequest, batch_id: str) -> web.Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, "not_found_error", f"No such message batch: '{batch_id}'")
        return self._view(request, batch)

    async def _results(self, batch_id: str) -> web.Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, "not_found_error", f"No such message batch: '{batch_id}'")
        if batch["processing_status"] != "ended":
            return _error(400, "invalid_request_error", "The batch has not ended yet.")
        lines = b"".join(json.dumps(line).encode() + b"\n" for line in self.results[batch_id])
        return web.Response(
            body=lines,
            headers={"request-id": request_id()},
            content_type="application/binary",
        )

    async def _cancel_batch(self, request: web.BaseRequest, batch_id: str) -> web.Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, "not_found_error", f"No such message batch: '{batch_id}'")
        if batch["processing_status"] == "in_progress":
            batch["processing_status"] = "canceling"
            batch["cancel_initiated_at"] = _now()
            task = self._tasks.get(batch_id)
            if task is not None:
                task.cancel()
        return self._view(request, batch)

    async def _run(self, batch: dict[str, Any], entries: list[Any], gate: asyncio.Event) -> None:
        lines: list[dict[str, Any]] = []
        counts = batch["request_counts"]
        try:
            await gate.wait()
            for entry in entries:
                line = await self._answer(batch, entry)
                lines.append(line)
                counts["processing"] -= 1
                counts[line["result"]["type"]] += 1
            self._end(batch, lines)
        except asyncio.CancelledError:
            if batch["processing_status"] == "canceling":
                answered = {line["custom_id"] for line in lines}
                for entry in entries:
                    if entry["custom_id"] not in answered:
                        lines.append(
                            {"custom_id": entry["custom_id"], "result": {"type": "canceled"}}
                        )
                        counts["processing"] -= 1
                        counts["canceled"] += 1
                self._end(batch, lines)
            raise
        finally:
            self._tasks.pop(batch["id"], None)
            self._gates.pop(batch["id"], None)

    def _end(self, batch: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        self.results[batch["id"]] = lines
        batch["processing_status"] = "ended"
        batch["ended_at"] = _now()

    async def _answer(self, batch: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        custom_id = entry["custom_id"]
        params = entry.get("params")
        record = RecordedRequest(
            method="POST",
            path="/v1/messages",
            headers={BATCH_HEADER: batch["id"], "anthropic-version": "2023-06-01"},
            json=params if isinstance(params, dict) else {},
            received_at=time.monotonic(),
        )
        if self.server.record_requests:
            self.server.requests.append(record)
        rid = request_id()
        step: Step = await self.server._next_step(record)
        while isinstance(step, DelayFault):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, StatusFault):
            error_body, _ = anthropic_error(step, rid)
            return {"custom_id": custom_id, "result": {"type": "errored", "error": error_body}}
        if step is None:
            reply = default_reply(record)
        elif isinstance(step, str):
            reply = FakeReply(content=step)
        elif isinstance(step, FakeReply):
            reply = step
        else:  # connection faults have no meaning inside a batch: a server error
            fault = StatusFault(500, message=f"The fault {step!r} failed this batch request.")
            error_body, _ = anthropic_error(fault, rid)
            return {"custom_id": custom_id, "result": {"type": "errored", "error": error_body}}
        model = record.model or anthropic_wire.MODELS[0]
        message = anthropic_wire.message(reply, model, estimate_usage(record, reply))
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}
