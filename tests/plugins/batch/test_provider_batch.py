"""Provider Batch API round trips over real HTTP against the fake server's batches endpoints."""

from __future__ import annotations

import pytest

from gluellm_plugins_batch import BatchRequest
from gluellm_plugins_batch.provider import ProviderBatch, provider_batch_complete
from gluellm_plugins_mock.fake_server import FakeReply, Fault
from gluellm_plugins_mock.fake_server.batches import BATCH_HEADER

from .conftest import fault_on_model


def _requests(n, model="openai:gpt-4o-mini"):
    return [
        BatchRequest(
            id=f"doc-{i}", user_message=f"Summarize document {i}", model=model, metadata={"n": i}
        )
        for i in range(n)
    ]


async def test_round_trip_maps_results_back_by_id(server, runtime):
    def respond(record):
        text = record.messages[-1]["content"]
        return FakeReply.text(f"summary of {text.rsplit(' ', 1)[-1]}", usage=(10, 5))

    server.responder = respond
    polls = []
    response = await provider_batch_complete(_requests(5), poll_interval=0.01, on_poll=polls.append)

    assert [r.id for r in response.results] == [f"doc-{i}" for i in range(5)]
    assert [r.response for r in response.results] == [f"summary of {i}" for i in range(5)]
    assert [r.metadata for r in response.results] == [{"n": i} for i in range(5)]
    assert response.successful_requests == 5
    assert response.total_tokens_used == {"prompt": 50, "completion": 25, "total": 75}
    assert polls
    assert polls[-1].status == "completed"
    # It went over the wire: one upload, one batch, five lines answered like chat requests.
    paths = [(r.method, r.path) for r in server.requests]
    assert ("POST", "/v1/files") in paths
    assert ("POST", "/v1/batches") in paths
    assert sum(1 for r in server.chat_requests if BATCH_HEADER in r.headers) == 5
    assert [len(s["content"]) > 0 for s in server.batches.files.values()].count(True) >= 2


async def test_failed_lines_come_back_as_failed_results(server, runtime):
    server.responder = fault_on_model({"gpt-bad": Fault.status(400, message="bad request")})
    requests = [*_requests(2, "openai:gpt-bad")]
    response = await provider_batch_complete(requests, poll_interval=0.01)
    assert response.failed_requests == 2
    assert all("bad request" in r.error for r in response.results)


async def test_cancel_stops_a_held_batch_and_reports_unanswered_requests(server, runtime):
    server.batches.hold = True
    batch = await ProviderBatch.submit(_requests(3))
    try:
        assert (await batch.status()).status == "in_progress"
        await batch.cancel()
        final = await batch.wait(poll_interval=0.01)
        assert final.status == "cancelled"
        response = await batch.results()
    finally:
        await batch.aclose()
    assert response.cancelled_requests == 3
    assert not any(BATCH_HEADER in r.headers for r in server.chat_requests)


async def test_polling_sees_a_held_batch_finish_after_release(server, runtime):
    server.batches.hold = True
    batch = await ProviderBatch.submit(_requests(2))
    try:
        assert (await batch.status()).status == "in_progress"
        server.batches.release()
        await batch.wait(poll_interval=0.01)
        response = await batch.results()
    finally:
        await batch.aclose()
    assert response.successful_requests == 2


async def test_one_model_per_provider_batch(runtime):
    with pytest.raises(ValueError, match="one model"):
        await ProviderBatch.submit(
            [
                *_requests(1, "openai:gpt-4o-mini"),
                BatchRequest(id="x", user_message="hi", model="openai:gpt-4o"),
            ]
        )
