"""Provider Batch APIs: submit `BatchRequest`s to OpenAI Batch or Anthropic Message Batches.

Submit, poll, fetch results, cancel.

For jobs too large for live calls, or where the provider's batch discount matters
more than latency (results within the completion window, typically hours). The
requests become one JSONL file (``custom_id`` = the request's ID) uploaded through
any-llm (``acreate_batch``); status and cancel go through any-llm too; the output and
error files are read with the SDK client any-llm built, and each line is mapped back by
``custom_id`` into the same `BatchResponse` live batches return.

An ``anthropic:`` model goes to Message Batches instead, with the anthropic SDK's
``AsyncAnthropic`` (key from the settings, base URL from ``ANTHROPIC_BASE_URL``): the
requests are sent inline (``custom_id`` + Messages ``params``), ``processing_status``
``ended`` is the end, and the results stream's lines (``succeeded``, ``errored``,
``canceled``, ``expired``) are mapped back by ``custom_id`` the same way.

A provider batch is one model turn per request: tools are offered to the model, but
tool calls come back in `BatchResult.pending_tool_calls` (nothing runs them).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gluellm_plugins_batch.models import BatchRequest, BatchResponse, BatchResult
from gluellm_plugins_batch.runner import not_started

if TYPE_CHECKING:
    from gluellm.runtime import Runtime

SUPPORTED_PROVIDERS = ("openai", "anthropic")
"""Providers whose Batch API this module speaks."""

BATCH_DISCOUNT = {"openai": 0.5, "anthropic": 0.5}
"""Share of the live price a provider bills for batch requests (both: half)."""

TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
"""Statuses after which a batch changes no more."""

ANTHROPIC_MAX_TOKENS = 4096
"""``max_tokens`` of each Message Batches request (the Messages API requires one)."""

_INSTALL_HINT = "pip install 'gluellm-plugins-batch[provider]'"


async def _load_anthropic() -> Any:
    try:
        return await asyncio.to_thread(importlib.import_module, "anthropic")
    except ImportError as error:
        raise ImportError(
            "Anthropic Message Batches go through the anthropic SDK, which is not installed. "
            f"Install it with: {_INSTALL_HINT}"
        ) from error


async def _load_any_llm() -> Any:
    try:
        return await asyncio.to_thread(importlib.import_module, "any_llm")
    except ImportError as error:
        raise ImportError(
            "Provider Batch APIs go through any-llm-sdk, which is not installed. "
            f"Install it with: {_INSTALL_HINT}"
        ) from error


def request_line(request: BatchRequest, runtime: Runtime) -> dict[str, Any]:
    """The Batch API input line of ``request`` (an OpenAI chat-completions request)."""
    from gluellm.model_ids import split_model
    from gluellm.models.prompt import SystemPrompt
    from gluellm.tools import as_tools

    model = request.model or runtime.settings.default_model
    _, model_name = split_model(model)
    tools = as_tools(list(request.tools or ()), runtime.tools)
    system = request.system_prompt or runtime.settings.default_system_prompt
    system_text = SystemPrompt(content=system).to_formatted_string(tuple(tools.values()))
    body: dict[str, Any] = {
        "model": model_name,
        "messages": [
            {"role": "system", "content": system_text},
            {"role": "user", "content": request.user_message},
        ],
    }
    if tools:
        body["tools"] = [tool.definition() for tool in tools.values()]
    return {"custom_id": request.id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def anthropic_request(request: BatchRequest, runtime: Runtime) -> dict[str, Any]:
    """The Message Batches entry of ``request``: ``custom_id`` and Messages ``params``."""
    line = request_line(request, runtime)
    body = line["body"]
    system, user = body["messages"]
    params: dict[str, Any] = {
        "model": body["model"],
        "max_tokens": ANTHROPIC_MAX_TOKENS,
        "messages": [user],
    }
    if system["content"]:
        params["system"] = system["content"]
    if "tools" in body:
        params["tools"] = [
            {
                "name": tool["function"]["name"],
                "description": tool["function"].get("description") or "",
                "input_schema": tool["function"].get("parameters")
                or {"type": "object", "properties": {}},
            }
            for tool in body["tools"]
        ]
    return {"custom_id": request.id, "params": params}


class ProviderBatch:
    """A batch submitted to a provider's Batch API.

    Build one with `ProviderBatch.submit`; then `wait` (or `status`), `results`,
    `cancel`, and `aclose` to release the HTTP client.

    Attributes:
        id: The provider's batch ID.
        provider: ``openai`` or ``anthropic``.
        model: The ``provider:model`` string every request used.
        requests: The submitted requests by ID (for metadata and missing results).
    """

    def __init__(
        self, llm: Any, batch: Any, model: str, requests: Sequence[BatchRequest], runtime: Runtime
    ) -> None:
        self._llm = llm
        self.batch = batch
        self.id: str = batch.id
        self.model = model
        self.provider = model.split(":", 1)[0].split("/", 1)[0]
        self.requests = {r.id: r for r in requests}
        self._order = [r.id for r in requests]
        self._runtime = runtime
        self._started = time.perf_counter()

    @classmethod
    async def submit(
        cls,
        requests: Sequence[BatchRequest],
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        metadata: dict[str, str] | None = None,
        runtime: Runtime | None = None,
    ) -> ProviderBatch:
        """Upload the requests as one JSONL file and create the batch.

        Args:
            requests: The requests; all must use one model (a Batch API file holds one
                model's requests), and their IDs must be unique.
            api_key: Key; by default ``GLUELLM_<PROVIDER>_API_KEY``, else
                ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``.
            base_url: Endpoint; by default the SDK's (``OPENAI_BASE_URL`` /
                ``ANTHROPIC_BASE_URL``).
            metadata: Labels stored with the batch at the provider.
            runtime: Settings and tools to use; by default the current runtime.

        Raises:
            ValueError: No requests, duplicate IDs, several models, or a provider without
                a supported Batch API.
        """
        from gluellm.model_ids import split_model
        from gluellm.runtime import get_runtime

        active = runtime or get_runtime()
        if not requests:
            raise ValueError("A provider batch needs at least one request.")
        ids = [r.id for r in requests]
        if len(set(ids)) != len(ids):
            raise ValueError("Provider batch requests need unique IDs: results map back by ID.")
        models = {r.model or active.settings.default_model for r in requests}
        if len(models) != 1:
            raise ValueError(
                f"A provider batch holds one model's requests; got {sorted(models)}. "
                "Submit one batch per model."
            )
        model = models.pop()
        provider, _ = split_model(model)
        if provider not in SUPPORTED_PROVIDERS:
            raise ValueError(
                f"No provider Batch API support for {provider!r} (supported: "
                f"{', '.join(SUPPORTED_PROVIDERS)}); run it as a live batch instead."
            )
        key = api_key or active.settings.api_key_for(provider)
        if provider == "anthropic":
            anthropic = await _load_anthropic()
            client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url)
            try:
                batch = await client.messages.batches.create(
                    requests=[anthropic_request(r, active) for r in requests]
                )
            except BaseException:
                await client.close()
                raise
            return cls(client, batch, model, requests, active)
        any_llm = await _load_any_llm()
        llm = any_llm.AnyLLM.create(provider, api_key=key, api_base=base_url)
        lines = [json.dumps(request_line(r, active)) for r in requests]
        path = await asyncio.to_thread(_write_temp, "\n".join(lines) + "\n")
        try:
            batch = await llm.acreate_batch(
                input_file_path=str(path),
                endpoint="/v1/chat/completions",
                metadata=metadata,
            )
        except BaseException:
            await _close(llm)
            raise
        finally:
            path.unlink(missing_ok=True)
        return cls(llm, batch, model, requests, active)

    async def status(self) -> Any:
        """Fetch the batch object again (``status`` / ``processing_status``, counts ...)."""
        if self.provider == "anthropic":
            self.batch = await self._llm.messages.batches.retrieve(self.id)
        else:
            self.batch = await self._llm.aretrieve_batch(self.id)
        return self.batch

    async def wait(
        self, poll_interval: float = 30.0, on_poll: Callable[[Any], None] | None = None
    ) -> Any:
        """Poll until the batch reaches a terminal status; return the batch object."""
        while True:
            batch = await self.status()
            if on_poll is not None:
                on_poll(batch)
            if self.done:
                return batch
            await asyncio.sleep(poll_interval)

    @property
    def done(self) -> bool:
        """Whether the last fetched batch object is in a terminal status."""
        if self.provider == "anthropic":
            return bool(self.batch.processing_status == "ended")
        return self.batch.status in TERMINAL_STATUSES

    @property
    def final_status(self) -> str:
        """The last fetched status (Anthropic: ``processing_status``)."""
        if self.provider == "anthropic":
            return str(self.batch.processing_status)
        return str(self.batch.status)

    async def cancel(self) -> Any:
        """Ask the provider to cancel; finished requests' results stay available."""
        if self.provider == "anthropic":
            self.batch = await self._llm.messages.batches.cancel(self.id)
        else:
            self.batch = await self._llm.acancel_batch(self.id)
        return self.batch

    async def results(self) -> BatchResponse:
        """Every request's result, in submission order, mapped back by ``custom_id``.

        Requests the provider did not answer (a cancelled or expired batch) have
        ``status="cancelled"`` results.
        """
        found: dict[str, BatchResult] = {}
        if self.provider == "anthropic":
            await self._anthropic_results(found)
        else:
            await self._openai_results(found)
        results = []
        for index, request_id in enumerate(self._order):
            result = found.get(request_id)
            if result is None:
                result = not_started(index, self.requests[request_id]).model_copy(
                    update={"error": f"no result: the provider batch ended as {self.final_status}"}
                )
            else:
                result = result.model_copy(update={"index": index})
            results.append(result)
        return BatchResponse.from_results(results, time.perf_counter() - self._started, self.id)

    async def _openai_results(self, found: dict[str, BatchResult]) -> None:
        batch = self.batch
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._llm.client.files.content(file_id)
            for line in content.text.splitlines():
                if line.strip():
                    result = self._result(json.loads(line))
                    if result is not None:
                        found[result.id] = result

    async def _anthropic_results(self, found: dict[str, BatchResult]) -> None:
        if self.batch.processing_status != "ended":
            return  # no results file before the end
        decoder = await self._llm.messages.batches.results(self.id)
        async for entry in decoder:
            result = self._anthropic_result(entry.model_dump(mode="json"))
            if result is not None:
                found[result.id] = result

    def _anthropic_result(self, line: dict[str, Any]) -> BatchResult | None:
        request = self.requests.get(str(line.get("custom_id")))
        if request is None:
            return None
        outcome = line.get("result") or {}
        kind = outcome.get("type")
        common: dict[str, Any] = {
            "id": request.id,
            "metadata": dict(request.metadata),
            "model": self.model,
        }
        if kind in ("canceled", "expired"):
            return BatchResult(
                success=False,
                status="cancelled",
                error=f"no result: the request was {kind} in the provider batch",
                error_type=f"ProviderBatch{str(kind).capitalize()}",
                **common,
            )
        if kind != "succeeded":
            error = (outcome.get("error") or {}).get("error") or outcome.get("error") or {}
            return BatchResult(
                success=False,
                status="error",
                error=str(error.get("message") or f"the request {kind or 'failed'}"),
                error_type=str(error.get("type") or "ProviderBatchError"),
                **common,
            )
        message = outcome.get("message") or {}
        blocks = message.get("content") or []
        text = "".join(b.get("text") or "" for b in blocks if b.get("type") == "text")
        pending = [
            {
                "id": b.get("id"),
                "tool_name": b.get("name"),
                "arguments": json.dumps(b.get("input")),
            }
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        raw = message.get("usage")
        usage = None
        if isinstance(raw, dict):
            prompt = int(raw.get("input_tokens") or 0)
            completion = int(raw.get("output_tokens") or 0)
            usage = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        tokens, cost = self._usage(usage)
        return BatchResult(
            success=True,
            response=text,
            tokens_used=tokens,
            estimated_cost_usd=cost,
            pending_tool_calls=pending,
            **common,
        )

    def _result(self, line: dict[str, Any]) -> BatchResult | None:
        request = self.requests.get(str(line.get("custom_id")))
        if request is None:
            return None
        response = line.get("response") or {}
        body = response.get("body") or {}
        common: dict[str, Any] = {
            "id": request.id,
            "metadata": dict(request.metadata),
            "model": self.model,
        }
        if response.get("status_code") != 200:
            error = body.get("error") if isinstance(body, dict) else None
            error = error or line.get("error") or {}
            status_code = response.get("status_code")
            return BatchResult(
                success=False,
                status="error",
                error=str(error.get("message") or f"HTTP {status_code}"),
                error_type=str(error.get("type") or error.get("code") or "ProviderBatchError"),
                **common,
            )
        message = (body.get("choices") or [{}])[0].get("message") or {}
        pending = [
            {
                "id": call.get("id"),
                "tool_name": call.get("function", {}).get("name"),
                "arguments": call.get("function", {}).get("arguments"),
            }
            for call in message.get("tool_calls") or []
        ]
        tokens, cost = self._usage(body.get("usage"))
        return BatchResult(
            success=True,
            response=message.get("content") or "",
            tokens_used=tokens,
            estimated_cost_usd=cost,
            pending_tool_calls=pending,
            **common,
        )

    def _usage(self, raw: Any) -> tuple[dict[str, int] | None, float | None]:
        from gluellm.call import Usage
        from gluellm.costs import estimate_cost

        if not isinstance(raw, dict):
            return None, None
        usage = Usage(
            int(raw.get("prompt_tokens", 0)),
            int(raw.get("completion_tokens", 0)),
            int(raw.get("total_tokens", 0)),
        )
        cost = estimate_cost(self._runtime, self.model, self.provider, usage)
        if cost is not None:
            cost *= BATCH_DISCOUNT.get(self.provider, 1.0)
        return usage.as_dict(), cost

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self.provider == "anthropic":
            await self._llm.close()
        else:
            await _close(self._llm)


def _write_temp(text: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="gluellm-batch-", suffix=".jsonl")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(name)


async def _close(llm: Any) -> None:
    client = getattr(llm, "client", None)
    close = getattr(client, "close", None)
    if callable(close):
        result = close()
        if asyncio.iscoroutine(result):
            await result


async def provider_batch_complete(
    requests: Sequence[BatchRequest],
    *,
    poll_interval: float = 30.0,
    on_poll: Callable[[Any], None] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    runtime: Runtime | None = None,
) -> BatchResponse:
    """Submit to the provider's Batch API, wait for the end, and return the results.

    Cancelling the awaiting task cancels the provider batch too.

    Args:
        requests: One model's `BatchRequest`s with unique IDs.
        poll_interval: Seconds between status checks.
        on_poll: Called with the batch object after each check.
        api_key: See `ProviderBatch.submit`.
        base_url: See `ProviderBatch.submit`.
        runtime: See `ProviderBatch.submit`.
    """
    batch = await ProviderBatch.submit(
        requests, api_key=api_key, base_url=base_url, runtime=runtime
    )
    try:
        try:
            await batch.wait(poll_interval, on_poll)
        except asyncio.CancelledError:
            await asyncio.shield(batch.cancel())
            raise
        return await batch.results()
    finally:
        await batch.aclose()
