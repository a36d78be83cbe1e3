"""Anthropic Message Batches round trips over real HTTP against the fake server."""

from __future__ import annotations

import json

import pytest

from gluellm.config import ModelPrice
from gluellm.runtime import use_runtime
from gluellm_plugins_batch import BatchRequest
from gluellm_plugins_batch.provider import (
    ProviderBatch,
    anthropic_request,
    provider_batch_complete,
)
from gluellm_plugins_mock.fake_server import FakeReply, Fault
from gluellm_plugins_mock.fake_server.batches import BATCH_HEADER

from .conftest import make_runtime

MODEL = "anthropic:claude-haiku-4-5"


def _requests(n, model=MODEL):
    return [
        BatchRequest(
            id=f"doc-{i}", user_message=f"Summarize document {i}", model=model, metadata={"n": i}
        )
        for i in range(n)
    ]


def _batch_lines(server):
    return [r for r in server.chat_requests if BATCH_HEADER in r.headers]


async def test_anthropic_round_trip_maps_results_back_by_id(server, runtime):
    def respond(record):
        text = record.messages[-1]["content"]
        number = text.rsplit(" ", 1)[-1]
        if number == "2":
            return Fault.status(400, message="prompt is too odd")
        return FakeReply.text(f"summary of {number}", usage=(10, 5))

    server.responder = respond
    polls = []
    response = await provider_batch_complete(_requests(4), poll_interval=0.01, on_poll=polls.append)

    assert [r.id for r in response.results] == [f"doc-{i}" for i in range(4)]
    assert [r.metadata for r in response.results] == [{"n": i} for i in range(4)]
    assert [r.success for r in response.results] == [True, True, False, True]
    assert [r.response for r in response.results if r.success] == [
        "summary of 0",
        "summary of 1",
        "summary of 3",
    ]
    failed = response.results[2]
    assert failed.status == "error"
    assert "prompt is too odd" in (failed.error or "")
    assert failed.error_type == "invalid_request_error"
    assert response.successful_requests == 3
    assert response.failed_requests == 1
    assert response.total_tokens_used == {"prompt": 30, "completion": 15, "total": 45}
    assert polls
    assert polls[-1].processing_status == "ended"
    # Over the wire: one Message Batches create, then results; each entry answered like
    # an Anthropic messages request with the model name, max_tokens and system prompt.
    paths = [(r.method, r.path) for r in server.requests]
    assert ("POST", "/v1/messages/batches") in paths
    assert any(m == "GET" and p.endswith("/results") for m, p in paths)
    lines = _batch_lines(server)
    assert len(lines) == 4
    assert all(r.api == "anthropic" and r.model == "claude-haiku-4-5" for r in lines)
    assert all(r.body["max_tokens"] > 0 and r.body["messages"][0]["role"] == "user" for r in lines)


async def test_anthropic_cost_is_half_the_live_price(server):
    prices = {MODEL: ModelPrice(input=1.0, output=2.0)}
    runtime = make_runtime(model_prices=prices)
    server.responder = lambda record: FakeReply.text("ok", usage=(1000, 500))
    with use_runtime(runtime):
        response = await provider_batch_complete(_requests(2), poll_interval=0.01)
    await runtime.aclose()
    # Live: 1000 * $1/M + 500 * $2/M = $0.002 per request; the batch bills half.
    assert all(r.estimated_cost_usd == pytest.approx(0.001) for r in response.results)
    assert response.estimated_cost_usd == pytest.approx(0.002)


async def test_anthropic_cancel_ends_a_held_batch_with_every_request_canceled(server, runtime):
    server.anthropic_batches.hold = True
    batch = await ProviderBatch.submit(_requests(3))
    try:
        status = await batch.status()
        assert status.processing_status == "in_progress"
        assert status.request_counts.processing == 3
        cancelled = await batch.cancel()
        assert cancelled.processing_status in ("canceling", "ended")
        final = await batch.wait(poll_interval=0.01)
        assert final.processing_status == "ended"
        assert final.request_counts.canceled == 3
        response = await batch.results()
    finally:
        await batch.aclose()
    assert response.cancelled_requests == 3
    assert [r.id for r in response.results] == ["doc-0", "doc-1", "doc-2"]
    assert all("canceled" in (r.error or "") for r in response.results)
    assert not _batch_lines(server)


async def test_anthropic_polling_sees_a_held_batch_end_after_release(server, runtime):
    server.anthropic_batches.hold = True
    batch = await ProviderBatch.submit(_requests(2))
    try:
        assert (await batch.status()).processing_status == "in_progress"
        assert not batch.done
        server.anthropic_batches.release()
        final = await batch.wait(poll_interval=0.01)
        assert final.request_counts.succeeded == 2
        response = await batch.results()
    finally:
        await batch.aclose()
    assert response.successful_requests == 2


async def test_anthropic_tool_calls_come_back_pending(server, runtime):
    def lookup(city: str) -> str:
        """Look up the weather in a city."""
        return "sunny"

    server.enqueue(FakeReply.make_tool_calls(("lookup", {"city": "Paris"})))
    request = BatchRequest(id="t", user_message="Weather?", model=MODEL, tools=[lookup])
    response = await provider_batch_complete([request], poll_interval=0.01)
    result = response.results[0]
    assert result.success
    assert [c["tool_name"] for c in result.pending_tool_calls] == ["lookup"]
    assert json.loads(result.pending_tool_calls[0]["arguments"]) == {"city": "Paris"}
    sent = _batch_lines(server)[0].body
    assert sent["tools"][0]["name"] == "lookup"
    assert sent["tools"][0]["input_schema"]["properties"]["city"]


def test_anthropic_request_shape(runtime):
    entry = anthropic_request(
        BatchRequest(id="a", user_message="Hi", model=MODEL, system_prompt="Be brief."), runtime
    )
    assert entry["custom_id"] == "a"
    params = entry["params"]
    assert params["model"] == "claude-haiku-4-5"
    assert params["messages"] == [{"role": "user", "content": "Hi"}]
    assert "Be brief." in params["system"]
    assert params["max_tokens"] > 0
