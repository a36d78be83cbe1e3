"""FAIL_FAST, CONTINUE, COLLECT and retry_failed, with some requests on faulting models."""

from __future__ import annotations

import pytest

from gluellm.errors import InvalidRequestError
from gluellm_plugins_batch import (
    BatchConfig,
    BatchError,
    BatchErrorStrategy,
    BatchRequest,
    batch_complete,
)
from gluellm_plugins_mock.fake_server import FakeReply, Fault

from .conftest import fault_on_model

BROKEN = "openai:gpt-broken"
SLOW = "openai:gpt-slow"


def _mixed(n, broken=(), slow=()):
    return [
        BatchRequest(
            id=f"r{i}",
            user_message=f"question {i}",
            model=BROKEN if i in broken else SLOW if i in slow else "openai:gpt-4o-mini",
        )
        for i in range(n)
    ]


def _faults():
    return fault_on_model(
        {
            "gpt-broken": Fault.status(400, message="this model is broken"),
            # Long enough that only cancellation ends it; the server cancels it on disconnect.
            "gpt-slow": Fault.delay(30.0),
        }
    )


async def test_fail_fast_stops_launching_and_cancels_in_flight(server, runtime):
    faults = {
        "gpt-broken": Fault.status(400, message="this model is broken"),
        "gpt-slow": Fault.delay(30.0),  # only cancellation ends it
        "gpt-4o-mini": Fault.delay(1.0),  # the others take a while, the failure does not
    }
    server.responder = fault_on_model(faults)
    requests = _mixed(20, broken={2}, slow={1})
    config = BatchConfig(max_concurrent=3, error_strategy=BatchErrorStrategy.FAIL_FAST)

    response = await batch_complete(requests, config=config)

    by_id = {r.id: r for r in response.results}
    assert by_id["r2"].status == "error"
    assert by_id["r2"].error_type == InvalidRequestError.__name__
    assert "this model is broken" in by_id["r2"].error
    assert by_id["r1"].status == "cancelled"  # it was in flight: cancelled, not waited for
    assert response.failed_requests == 1
    assert response.total_requests == 20
    assert response.successful_requests + response.cancelled_requests == 19
    # Nothing was launched after the failure: the server saw the successes, the failure
    # and at most the two other requests in flight, and most requests never went out.
    sent = len(server.chat_requests)
    assert response.successful_requests + 1 <= sent <= response.successful_requests + 3
    assert sent < 10
    never_sent = [r for r in response.results if r.error and "not started" in r.error]
    assert len(never_sent) >= 20 - sent - 2


async def test_continue_runs_every_request(server, runtime):
    server.responder = _faults()
    requests = _mixed(8, broken={1, 5})

    response = await batch_complete(
        requests, config=BatchConfig(max_concurrent=3, error_strategy=BatchErrorStrategy.CONTINUE)
    )

    assert len(server.chat_requests) == 8
    assert response.successful_requests == 6
    assert response.failed_requests == 2
    assert [r.id for r in response.results if not r.success] == ["r1", "r5"]
    assert [r.id for r in response.results] == [f"r{i}" for i in range(8)]  # input order


async def test_collect_raises_one_error_with_every_failure_and_the_response(server, runtime):
    server.responder = _faults()
    requests = _mixed(8, broken={0, 3, 7})

    with pytest.raises(BatchError) as caught:
        await batch_complete(
            requests,
            config=BatchConfig(max_concurrent=4, error_strategy=BatchErrorStrategy.COLLECT),
        )

    error = caught.value
    assert [r.id for r in error.errors] == ["r0", "r3", "r7"]
    assert error.response.successful_requests == 5
    assert len(server.chat_requests) == 8
    assert "3 of 8 batch requests failed" in str(error)


def _fails_once(flaky_text):
    seen: dict[str, int] = {}

    def respond(record):
        text = record.messages[-1]["content"]
        seen[text] = seen.get(text, 0) + 1
        if text == flaky_text and seen[text] == 1:
            return Fault.status(500, message="temporary failure")
        return FakeReply.text(f"answer to {text}")

    return respond


@pytest.mark.parametrize("retry_failed", [True, False])
async def test_retry_failed_recovers_a_request_that_fails_once(server, runtime, retry_failed):
    server.responder = _fails_once("question 2")
    response = await batch_complete(
        _mixed(4), config=BatchConfig(max_concurrent=2, retry_failed=retry_failed)
    )
    flaky = response.results[2]
    if retry_failed:
        assert flaky.success
        assert flaky.response == "answer to question 2"
        assert flaky.attempts == 2
        assert flaky.retried
        assert response.successful_requests == 4
        assert len(server.chat_requests) == 5
    else:
        assert not flaky.success
        assert flaky.error_type == "APIConnectionError"
        assert response.failed_requests == 1
        assert len(server.chat_requests) == 4


async def test_fail_fast_with_retry_counts_only_the_final_failure(server, runtime):
    server.responder = _fails_once("question 1")
    response = await batch_complete(
        _mixed(5),
        config=BatchConfig(
            max_concurrent=1, retry_failed=True, error_strategy=BatchErrorStrategy.FAIL_FAST
        ),
    )
    assert response.successful_requests == 5
    assert len(server.chat_requests) == 6
