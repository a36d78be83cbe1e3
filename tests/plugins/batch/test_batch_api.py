"""The spec's batch API over real HTTP: per-request options, results, totals, nesting."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gluellm import hookimpl
from gluellm.config import ModelPrice
from gluellm.runtime import use_runtime
from gluellm_plugins_batch import (
    BatchConfig,
    BatchRequest,
    EmbeddingBatchRequest,
    batch_complete,
    batch_complete_simple,
    stream_batch,
)
from gluellm_plugins_mock.fake_server import FakeReply

from .conftest import make_runtime


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression.

    Args:
        expression: Digits and + - * / only.
    """
    allowed = set("0123456789+-*/ ().")
    if not set(expression) <= allowed:
        raise ValueError("only arithmetic")
    return str(eval(expression))


async def test_simple_batch_returns_answers_in_input_order(server, runtime):
    server.responder = lambda record: FakeReply.text(f"A:{record.messages[-1]['content']}")
    messages = [f"message {i}" for i in range(12)]
    answers = await batch_complete_simple(messages, config=BatchConfig(max_concurrent=5))
    assert answers == [f"A:message {i}" for i in range(12)]
    assert len(server.chat_requests) == 12


async def test_per_request_options_reach_the_wire(server, runtime):
    requests = [
        BatchRequest(
            id="with-system",
            user_message="hello",
            system_prompt="You are terse.",
            metadata={"category": "greeting"},
            timeout=30.0,
        ),
        BatchRequest(id="other-model", user_message="hi", model="openai:gpt-4o"),
        BatchRequest(
            id="anthropic", user_message="hey", model="anthropic:claude-3-5-sonnet-20241022"
        ),
    ]
    response = await batch_complete(requests)

    by_model = {r.model: r for r in server.chat_requests}
    assert set(by_model) == {"gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022"}
    assert "You are terse." in by_model["gpt-4o-mini"].messages[0]["content"]
    assert by_model["claude-3-5-sonnet-20241022"].api == "anthropic"
    first = response.results[0]
    assert first.id == "with-system"
    assert first.metadata == {"category": "greeting"}
    assert [r.model for r in response.results] == [
        "openai:gpt-4o-mini",
        "openai:gpt-4o",
        "anthropic:claude-3-5-sonnet-20241022",
    ]


async def test_tools_run_per_request_and_are_counted(server, runtime):
    server.enqueue(
        FakeReply.tool_calls(("calculate", {"expression": "25 * 4"}), usage=(20, 5)),
        FakeReply.text("It is 100.", usage=(30, 4)),
    )
    response = await batch_complete(
        [BatchRequest(id="calc", user_message="Calculate 25 * 4", tools=[calculate])],
    )
    result = response.results[0]
    assert result.success
    assert result.response == "It is 100."
    assert result.tool_calls_made == 1
    assert result.tool_execution_history[0]["result"] == "100"
    assert result.tokens_used == {"prompt": 50, "completion": 9, "total": 59}
    assert server.chat_requests[0].body["tools"][0]["function"]["name"] == "calculate"


async def test_execute_tools_false_returns_pending_calls(server, runtime):
    server.enqueue(FakeReply.tool_calls(("calculate", {"expression": "1+1"})))
    response = await batch_complete(
        [BatchRequest(user_message="1+1?", tools=[calculate], execute_tools=False)]
    )
    result = response.results[0]
    assert result.tool_calls_made == 0
    assert [c["tool_name"] for c in result.pending_tool_calls] == ["calculate"]
    assert len(server.chat_requests) == 1


async def test_totals_sum_tokens_and_cost(server):
    prices = {"openai:gpt-4o-mini": ModelPrice(input=1.0, output=2.0)}
    runtime = make_runtime(model_prices=prices)
    server.responder = lambda record: FakeReply.text("ok", usage=(1000, 500))
    with use_runtime(runtime):
        response = await batch_complete(
            [BatchRequest(user_message=f"q{i}") for i in range(4)],
            config=BatchConfig(max_concurrent=2),
        )
    await runtime.aclose()
    assert response.total_tokens_used == {"prompt": 4000, "completion": 2000, "total": 6000}
    # 1000 * $1/M + 500 * $2/M = $0.002 per request.
    assert response.estimated_cost_usd == pytest.approx(0.008)
    assert all(r.estimated_cost_usd == pytest.approx(0.002) for r in response.results)
    assert all(r.elapsed_time > 0 for r in response.results)
    assert response.total_elapsed_time >= max(r.elapsed_time for r in response.results)


class RunRecorder:
    def __init__(self):
        self.ends = []

    @hookimpl
    def on_run_end(self, run, end):
        self.ends.append(end)


async def test_each_request_is_a_run_nested_in_the_batch_run(server):
    recorder = RunRecorder()
    runtime = make_runtime((recorder, "recorder"))
    with use_runtime(runtime):
        response = await batch_complete(
            [BatchRequest(id=f"q{i}", user_message="hi", metadata={"n": i}) for i in range(3)],
            batch_id="batch-under-test",
        )
    await runtime.aclose()
    assert response.batch_id == "batch-under-test"
    [batch] = [e.run for e in recorder.ends if e.run.operation == "batch"]
    assert batch.name == "batch-under-test"
    items = [e.run for e in recorder.ends if e.run.operation == "batch_request"]
    assert sorted(r.name for r in items) == ["q0", "q1", "q2"]
    assert all(r.parent is batch for r in items)
    assert sorted(r.metadata["n"] for r in items) == [0, 1, 2]
    completes = [e.run for e in recorder.ends if e.run.operation == "complete"]
    assert {r.parent.name for r in completes} == {"q0", "q1", "q2"}
    assert all(r.correlation_id.startswith("batch-under-test/") for r in completes)
    # The batch run accumulated its requests' usage.
    [batch_end] = [e for e in recorder.ends if e.run.operation == "batch"]
    assert batch_end.usage is not None
    assert batch_end.usage.total_tokens > 0


async def test_embedding_requests_use_the_same_runner(server, runtime):
    requests = [
        EmbeddingBatchRequest(
            id="e1", input=["alpha", "beta"], model="openai:text-embedding-3-small"
        ),
        BatchRequest(id="c1", user_message="hello"),
        EmbeddingBatchRequest(id="e2", input="gamma", model="openai:text-embedding-3-small"),
    ]
    response = await batch_complete(requests, config=BatchConfig(max_concurrent=3))
    e1, c1, e2 = response.results
    assert len(e1.embeddings) == 2
    assert len(e2.embeddings) == 1
    assert e1.embeddings[0] != e1.embeddings[1]
    assert c1.response
    assert c1.embeddings is None
    assert [r.path for r in server.requests].count("/v1/embeddings") == 2


async def test_streaming_pulls_lazily_and_keeps_a_bounded_window(server, runtime):
    server.latency = 0.01
    pulled = 0
    max_ahead = 0
    read = 0

    def source():
        nonlocal pulled
        for i in range(60):
            pulled += 1
            yield BatchRequest(id=f"s{i}", user_message=f"q{i}")

    seen = set()
    async with contextlib.aclosing(stream_batch(source(), BatchConfig(max_concurrent=4))) as s:
        async for result in s:
            read += 1
            max_ahead = max(max_ahead, pulled - read)
            seen.add(result.index)
    assert seen == set(range(60))
    assert max_ahead <= 2 * 4  # never more than the window's slots pulled ahead of the reader


async def test_streaming_takes_an_async_iterable_and_closing_cancels_in_flight(server, runtime):
    server.latency = 0.05

    async def source():
        for i in range(1000):
            yield BatchRequest(id=f"a{i}", user_message=f"q{i}")
            await asyncio.sleep(0)

    got = []
    async with contextlib.aclosing(stream_batch(source(), BatchConfig(max_concurrent=3))) as s:
        async for result in s:
            got.append(result)
            if len(got) == 5:
                break
    assert len(got) == 5
    assert len(server.chat_requests) < 20  # the rest of the 1000 were never launched


async def test_a_bad_item_is_a_type_error():
    with pytest.raises(TypeError, match="BatchRequest"):
        await batch_complete(["not a request"])  # type: ignore[list-item]


async def _drain(stream, seen):
    async with contextlib.aclosing(stream) as results:
        async for result in results:
            seen.append(result)


async def test_a_bad_item_in_a_stream_stops_the_batch_and_raises(server, runtime):
    def source():
        for i in range(100):
            yield BatchRequest(id=f"s{i}", user_message=f"q{i}") if i != 5 else "oops"

    with pytest.raises(TypeError, match="BatchRequest"):
        await _drain(stream_batch(source(), BatchConfig(max_concurrent=2)), [])
    assert len(server.chat_requests) < 10


async def test_a_source_that_raises_ends_the_stream_with_its_error(server, runtime):
    async def source():
        yield BatchRequest(id="a", user_message="q")
        raise RuntimeError("the input broke")

    seen = []
    with pytest.raises(RuntimeError, match="the input broke"):
        await _drain(stream_batch(source()), seen)
    assert [r.id for r in seen] in ([], ["a"])
