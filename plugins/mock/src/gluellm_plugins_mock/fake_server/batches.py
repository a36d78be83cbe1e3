"""The OpenAI files and batches endpoints, so provider Batch API clients can be tested.

Endpoints (with and without the ``/v1`` prefix): ``POST /files`` (multipart upload),
``GET /files/{id}``, ``GET /files/{id}/content``, ``POST /batches``, ``GET /batches``,
``GET /batches/{id}``, ``POST /batches/{id}/cancel``.

A created batch runs on the server's event loop: each input line is answered like a
chat request (it is recorded in ``server.requests`` with the header
``x-fake-batch-id`` and consumes scripted steps and the responder the same way), then
the batch completes with an output file (status 200 answers) and an error file (the
rest), in OpenAI's line format. Set `BatchStore.hold` to keep new batches
``in_progress`` until `BatchStore.release` (to test polling and cancelling).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gluellm_plugins_mock.fake_server import openai_wire
from gluellm_plugins_mock.fake_server.defaults import default_reply, estimate_usage
from gluellm_plugins_mock.fake_server.errors import openai_error
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

_Route = Callable[[web.BaseRequest, RecordedRequest], Awaitable[web.StreamResponse]]
_ids = itertools.count(1)
BATCH_HEADER = "x-fake-batch-id"
"""Header on the recorded chat requests a batch's lines became."""


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):06d}"


def _not_found(what: str, name: str) -> web.Response:
    body = {
        "error": {
            "message": f"No such {what}: '{name}'",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    return json_response(body, {"x-request-id": request_id()}, 404)


def _bad_request(message: str) -> web.Response:
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    return json_response(body, {"x-request-id": request_id()}, 400)


class BatchStore:
    """Files and batches of one fake server.

    Attributes:
        files: Uploaded and generated files by ID: ``{"meta": {...}, "content": bytes}``.
        batches: Batch objects by ID (the JSON the API returns).
        hold: New batches wait in ``in_progress`` until `release` while this is True.
    """

    def __init__(self, server: FakeProviderServer) -> None:
        self.server = server
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.hold = False
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._gates: dict[str, asyncio.Event] = {}

    def reset(self) -> None:
        """Forget files and batches; stop running batches; stop holding."""
        for task in self._tasks.values():
            task.get_loop().call_soon_threadsafe(task.cancel)
        self._tasks.clear()
        self._gates.clear()
        self.files.clear()
        self.batches.clear()
        self.hold = False

    def release(self) -> None:
        """Let held batches run (thread-safe: tests call it from their own loop)."""
        self.hold = False
        for batch_id, task in list(self._tasks.items()):
            gate = self._gates.get(batch_id)
            if gate is not None:
                task.get_loop().call_soon_threadsafe(gate.set)

    def routes(self) -> dict[tuple[str, str], _Route]:
        """The fixed-path routes, for the server's route table."""
        table: dict[tuple[str, str], _Route] = {}
        for prefix in ("/v1", ""):
            table[("POST", f"{prefix}/files")] = self._upload
            table[("POST", f"{prefix}/batches")] = self._create
            table[("GET", f"{prefix}/batches")] = self._list
        return table

    def route(self, method: str, path: str) -> _Route | None:
        """The route for a path with an ID in it, or None."""
        parts = path.removeprefix("/v1").strip("/").split("/")
        if method == "GET" and parts[0] == "files" and len(parts) == 2:
            return lambda request, record: self._file(parts[1])
        if method == "GET" and parts[0] == "files" and parts[2:] == ["content"]:
            return lambda request, record: self._content(parts[1])
        if method == "GET" and parts[0] == "batches" and len(parts) == 2:
            return lambda request, record: self._retrieve(parts[1])
        if method == "POST" and parts[0] == "batches" and parts[2:] == ["cancel"]:
            return lambda request, record: self._cancel(parts[1])
        return None

    # -- files -------------------------------------------------------------------------

    async def _upload(self, request: web.BaseRequest, record: RecordedRequest) -> web.Response:
        raw = await request.read()  # cached by aiohttp: the server already read it
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {request.headers.get('Content-Type', '')}\r\n\r\n".encode() + raw
        )
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = (part.get_filename(), payload)
        if "file" not in fields:
            return _bad_request("'file' is a required property")
        filename, content = fields["file"]
        purpose = fields.get("purpose", (None, b"batch"))[1].decode()
        meta = self._add_file(content, filename or "upload.jsonl", purpose)
        return json_response(meta, {"x-request-id": request_id()})

    def _add_file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = _new_id("file")
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[file_id] = {"meta": meta, "content": content}
        return meta

    async def _file(self, file_id: str) -> web.Response:
        stored = self.files.get(file_id)
        if stored is None:
            return _not_found("file", file_id)
        return json_response(stored["meta"], {"x-request-id": request_id()})

    async def _content(self, file_id: str) -> web.Response:
        stored = self.files.get(file_id)
        if stored is None:
            return _not_found("file", file_id)
        return web.Response(
            body=stored["content"],
            headers={"x-request-id": request_id()},
            content_type="application/octet-stream",
        )

    # -- batches -----------------------------------------------------------------------

    async def _create(self, request: web.BaseRequest, record: RecordedRequest) -> web.Response:
        body = record.body
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or file_id not in self.files:
            return _bad_request(f"Invalid input_file_id: {file_id!r}")
        endpoint = body.get("endpoint")
        if endpoint not in ("/v1/chat/completions", "/v1/embeddings"):
            return _bad_request(f"Unsupported endpoint: {endpoint!r}")
        lines = [ln for ln in self.files[file_id]["content"].splitlines() if ln.strip()]
        now = int(time.time())
        batch = {
            "id": _new_id("batch"),
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": file_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": body.get("metadata") or {},
        }
        self.batches[batch["id"]] = batch
        gate = self._gates[batch["id"]] = asyncio.Event()
        if not self.hold:
            gate.set()
        self._tasks[batch["id"]] = asyncio.get_running_loop().create_task(
            self._process(batch, lines, gate)
        )
        return json_response(batch, {"x-request-id": request_id()})

    async def _list(self, request: web.BaseRequest, record: RecordedRequest) -> web.Response:
        data = sorted(self.batches.values(), key=lambda b: b["id"], reverse=True)
        after = record.query.get("after")
        if after is not None:
            data = [b for b in data if b["id"] < after]
        limit = int(record.query.get("limit", "20"))
        page = data[:limit]
        body = {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(data) > limit,
        }
        return json_response(body, {"x-request-id": request_id()})

    async def _retrieve(self, batch_id: str) -> web.Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _not_found("batch", batch_id)
        return json_response(batch, {"x-request-id": request_id()})

    async def _cancel(self, batch_id: str) -> web.Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _not_found("batch", batch_id)
        if batch["status"] in ("validating", "in_progress"):
            batch["status"] = "cancelling"
            batch["cancelling_at"] = int(time.time())
            task = self._tasks.get(batch_id)
            if task is not None:
                task.cancel()
        return json_response(batch, {"x-request-id": request_id()})

    async def _process(
        self, batch: dict[str, Any], lines: list[bytes], gate: asyncio.Event
    ) -> None:
        outputs: list[bytes] = []
        errors: list[bytes] = []
        counts = batch["request_counts"]
        try:
            batch["status"] = "in_progress"
            batch["in_progress_at"] = int(time.time())
            await gate.wait()
            for line in lines:
                answer = await self._answer_line(batch, line)
                if answer["response"] is not None and answer["response"]["status_code"] == 200:
                    counts["completed"] += 1
                    outputs.append(json.dumps(answer).encode())
                else:
                    counts["failed"] += 1
                    errors.append(json.dumps(answer).encode())
            batch["status"] = "finalizing"
            batch["finalizing_at"] = int(time.time())
            self._finish(batch, outputs, errors, "completed")
        except asyncio.CancelledError:
            if batch["status"] == "cancelling":
                self._finish(batch, outputs, errors, "cancelled")
            raise
        finally:
            self._tasks.pop(batch["id"], None)
            self._gates.pop(batch["id"], None)

    def _finish(
        self, batch: dict[str, Any], outputs: list[bytes], errors: list[bytes], status: str
    ) -> None:
        if outputs:
            name = f"{batch['id']}_output.jsonl"
            content = b"\n".join(outputs) + b"\n"
            batch["output_file_id"] = self._add_file(content, name, "batch_output")["id"]
        if errors:
            name = f"{batch['id']}_error.jsonl"
            content = b"\n".join(errors) + b"\n"
            batch["error_file_id"] = self._add_file(content, name, "batch_output")["id"]
        batch["status"] = status
        batch[f"{status}_at"] = int(time.time())

    async def _answer_line(self, batch: dict[str, Any], line: bytes) -> dict[str, Any]:
        entry_id = _new_id("batch_req")
        try:
            entry = json.loads(line)
            custom_id = str(entry["custom_id"])
            body = entry["body"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "invalid_request", "message": "A line is not a valid request."}
            return {"id": entry_id, "custom_id": None, "response": None, "error": error}
        path = "/v1/embeddings" if batch["endpoint"] == "/v1/embeddings" else "/v1/chat/completions"
        record = RecordedRequest(
            method="POST",
            path=path,
            headers={BATCH_HEADER: batch["id"]},
            json=body,
            received_at=time.monotonic(),
        )
        if self.server.record_requests:
            self.server.requests.append(record)
        rid = request_id()
        if path == "/v1/embeddings":
            vectors = openai_wire.embeddings(record.body, self.server.embedding_dimension)
            return _line(entry_id, custom_id, 200, rid, vectors)
        step: Step = await self.server._next_step(record)
        while isinstance(step, DelayFault):
            await asyncio.sleep(step.seconds)
            step = step.then
        if isinstance(step, StatusFault):
            error_body, _ = openai_error(step, rid)
            return _line(entry_id, custom_id, step.http_status, rid, error_body)
        if step is None:
            reply = default_reply(record)
        elif isinstance(step, str):
            reply = FakeReply(content=step)
        elif isinstance(step, FakeReply):
            reply = step
        else:  # connection faults have no meaning inside a batch: a server error
            fault = StatusFault(500, message=f"The fault {step!r} failed this batch request.")
            error_body, _ = openai_error(fault, rid)
            return _line(entry_id, custom_id, 500, rid, error_body)
        model = record.model or openai_wire.MODELS[0]
        completion = openai_wire.chat_completion(reply, model, estimate_usage(record, reply))
        return _line(entry_id, custom_id, 200, rid, completion)


def _line(
    entry_id: str, custom_id: str, status: int, rid: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = {"status_code": status, "request_id": rid, "body": body}
    return {"id": entry_id, "custom_id": custom_id, "response": response, "error": None}
