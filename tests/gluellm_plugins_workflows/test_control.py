"""Budgets, cancellation, streaming, nested runs, fallbacks and concurrency bounds."""

from __future__ import annotations

import asyncio

import pytest

from gluellm import hookimpl
from gluellm.call import ModelCall
from gluellm.costs import Budget
from gluellm.errors import AuthenticationError
from gluellm.testing import FunctionTransport, reply
from gluellm_plugins_workflows.config import CriticConfig, IterativeConfig, MapReduceConfig
from gluellm_plugins_workflows.iterative import CriticFeedback, IterativeRefinementWorkflow
from gluellm_plugins_workflows.map_reduce import MapReduceWorkflow
from gluellm_plugins_workflows.pipeline import PipelineWorkflow

from .conftest import counter, make_agent, text


def pipeline(stages: int) -> PipelineWorkflow:
    return PipelineWorkflow(stages=[(f"s{i}", make_agent(f"S{i}")) for i in range(1, stages + 1)])


class AsyncModel:
    """A model answering through an async function (to hold calls in flight)."""

    def __init__(self, function) -> None:
        self.transport = FunctionTransport(function)


async def test_budget_stops_the_workflow_cleanly_with_what_it_has(model):
    m = model(default=counter("out"))
    # every call spends 15 tokens: after 3 calls 45 >= 40, so stage 4 never starts
    result = await pipeline(6).execute("start", budget=Budget(max_tokens=40))
    assert len(m.log) == 3
    assert result.stop_reason == "budget_exceeded"
    assert result.completed is False
    assert result.final_output == "out 3"
    assert result.iterations == 3
    assert "40 tokens" in result.metadata["budget_reason"]
    assert result.tokens_used["total"] == 45


async def test_budget_on_the_constructor_bounds_parallel_steps(model):
    m = model(
        Writer=counter("draft"),
        Critic=lambda p, fmt: CriticFeedback(feedback="more", score=0.1),
    )
    workflow = IterativeRefinementWorkflow(
        producer=make_agent("Writer"),
        critics=[CriticConfig(executor=make_agent("Critic"), specialty=s, goal="g") for s in "abc"],
        config=IterativeConfig(max_iterations=10),
        budget=Budget(max_tokens=100),
    )
    result = await workflow.execute("Write")
    # iteration 1 spends 4 * 15 = 60 tokens, iteration 2's producer 75; its critics start
    # concurrently, and none starts once 100 are spent: never the 40 calls of 10 iterations
    assert 6 < len(m.log) <= 8
    assert 100 <= result.tokens_used["total"] < 100 + 3 * 15
    assert result.stop_reason == "budget_exceeded"
    assert result.final_output == "draft 2"
    assert result.iterations == 2


async def test_without_budget_the_result_reports_usage_and_completion(model):
    model(default=text("x"))
    result = await pipeline(2).execute("start")
    assert result.completed
    assert result.metadata["stop_reason"] == "completed"
    assert result.model_calls == 2
    assert result.tokens_used == {"prompt": 20, "completion": 10, "total": 30}


async def test_a_cancelled_workflow_cancels_its_in_flight_steps(provider, runtime):
    started: list[str] = []
    cancelled: list[str] = []
    all_started = asyncio.Event()

    async def hang(call: ModelCall):
        started.append(call.messages[-1]["content"])
        if len(started) == 3:
            all_started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(call.messages[-1]["content"])
            raise
        return reply("never")

    provider.current = AsyncModel(hang)
    workflow = MapReduceWorkflow(
        make_agent("Map"), config=MapReduceConfig(reduce_strategy="concatenate")
    )
    task = asyncio.create_task(workflow.execute("a\n\nb\n\nc"))
    await all_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(cancelled) == 3
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_failing_parallel_step_raises_its_own_error_and_cancels_the_rest(provider, runtime):
    cancelled: list[str] = []

    async def answer(call: ModelCall):
        if "Part 2" in call.messages[-1]["content"]:
            await asyncio.sleep(0)
            raise AuthenticationError("bad key")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append("x")
            raise
        return reply("never")

    provider.current = AsyncModel(answer)
    workflow = MapReduceWorkflow(make_agent("Map"))
    with pytest.raises(AuthenticationError, match="bad key"):
        await workflow.execute("a\n\nb\n\nc")
    assert len(cancelled) == 2
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_parallel_steps_respect_the_configured_bound(provider, runtime):
    running = 0
    peak = 0

    async def answer(call: ModelCall):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1
        return reply("mapped")

    provider.current = AsyncModel(answer)
    config = MapReduceConfig(max_parallel_chunks=2, reduce_strategy="concatenate")
    result = await MapReduceWorkflow(make_agent("Map"), config=config).execute(
        "\n\n".join("abcdef")
    )
    assert peak == 2
    assert result.metadata["num_chunks"] == 6


async def test_stream_yields_step_events_then_the_result(model):
    model(default=counter("out"))
    events = [event async for event in pipeline(2).stream("start")]
    assert [(e.kind, e.step) for e in events] == [
        ("step_started", 1),
        ("step_finished", 1),
        ("step_started", 2),
        ("step_finished", 2),
        ("workflow_finished", 0),
    ]
    assert events[1].agent == "S1"
    assert events[1].role == "stage"
    assert events[1].output == "out 1"
    assert events[1].tokens_used == {"prompt": 10, "completion": 5, "total": 15}
    assert events[2].input == "out 1"
    assert events[-1].result.final_output == "out 2"


async def test_closing_a_stream_early_cancels_the_workflow(provider, runtime):
    cancelled: list[bool] = []

    async def hang(call: ModelCall):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return reply("never")

    provider.current = AsyncModel(hang)
    stream = pipeline(3).stream("start")
    first = await anext(stream)
    assert first.kind == "step_started"
    for _ in range(3):
        await asyncio.sleep(0)  # let the step reach the model
    await stream.aclose()
    assert cancelled == [True]
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_a_failed_workflow_streams_step_failed_then_raises(provider, runtime):
    def fail(call):
        raise AuthenticationError("nope")

    provider.current = AsyncModel(fail)
    kinds = []

    async def read() -> None:
        async for event in pipeline(2).stream("start"):
            kinds.append(event.kind)

    with pytest.raises(AuthenticationError):
        await read()
    assert kinds == ["step_started", "step_failed"]


class RunRecorder:
    def __init__(self) -> None:
        self.ends = []

    @hookimpl
    def on_run_end(self, run, end):
        self.ends.append(end)


async def test_every_step_is_a_run_nested_under_the_workflow_run(model, plugin_manager):
    recorder = RunRecorder()
    plugin_manager.register(recorder, name="recorder")
    model(default=counter("out"))
    result = await pipeline(2).execute("start")
    by_op = {}
    for end in recorder.ends:
        by_op.setdefault(end.run.operation, []).append(end)
    (workflow,) = by_op["workflow"]
    assert workflow.run.name == "pipeline"
    assert workflow.output is result
    assert workflow.usage.total_tokens == 30
    steps = by_op["workflow_step"]
    assert [s.run.name for s in steps] == ["S1", "S2"]
    assert all(s.run.parent is workflow.run for s in steps)
    assert [s.run.metadata["step"] for s in steps] == [1, 2]
    calls = by_op["complete"]
    assert [c.run.parent for c in calls] == [s.run for s in steps]
    assert all(c.run.root is workflow.run for c in calls)


async def test_a_decision_that_never_validates_uses_its_recorded_fallback(model):
    m = model(Writer=text("draft"), Critic=text("not json at all"))
    workflow = IterativeRefinementWorkflow(
        producer=make_agent("Writer"),
        critics=[CriticConfig(executor=make_agent("Critic"), specialty="s", goal="g")],
        config=IterativeConfig(max_iterations=1),
    )
    result = await workflow.execute("Write")
    # one answer plus GLUELLM_STRUCTURED_OUTPUT_MAX_RETRIES (2) re-asks
    assert m.agents() == ["Writer", "Critic", "Critic", "Critic"]
    (fallback,) = result.metadata["fallbacks"]
    assert fallback["step"] == 2
    assert result.agent_interactions[1]["fallback"] is True
    assert fallback["decision"] == "CriticFeedback"
    assert fallback["agent"] == "Critic"
    assert fallback["raw_output"] == "not json at all"
    assert fallback["used"] == {"feedback": "not json at all", "score": 0.0}
    assert result.metadata["quality_scores"] == [0.0]


class PlainExecutor:
    """A third-party executor with only `execute`."""

    name = "plain"

    def __init__(self, answers):
        self.answers = iter(answers)
        self.queries = []

    async def execute(self, query: str) -> str:
        self.queries.append(query)
        return next(self.answers)


async def test_plain_executors_decide_through_parsed_json(runtime):
    producer = PlainExecutor(["draft 1", "draft 2"])
    good = PlainExecutor(
        ['```json\n{"feedback": "ok", "score": 0.9}\n```', '{"feedback": "x", "score": 1}']
    )
    bad = PlainExecutor(["whatever", "nope"])
    workflow = IterativeRefinementWorkflow(
        producer=producer,
        critics=[
            CriticConfig(executor=good, specialty="good", goal="g"),
            CriticConfig(executor=bad, specialty="bad", goal="g"),
        ],
        config=IterativeConfig(max_iterations=2),
    )
    result = await workflow.execute("Write")
    assert "JSON schema" in good.queries[0]
    assert result.metadata["quality_scores"] == [0.45, 0.5]
    assert [f["raw_output"] for f in result.metadata["fallbacks"]] == ["whatever", "nope"]
    assert result.final_output == "draft 2"
    assert result.model_calls == 0


async def test_empty_input_is_refused(runtime):
    with pytest.raises(ValueError, match="non-empty"):
        await pipeline(1).execute("  ")


@pytest.fixture
def priced(plugin_manager, provider):
    """A runtime whose default model costs $1 per million prompt and $2 per million
    completion tokens: each scripted call (10 + 5 tokens) costs $0.00002."""
    from gluellm.config import ModelPrice, Settings
    from gluellm.runtime import Runtime, use_runtime

    from .conftest import MODEL

    settings = Settings(
        _env_file=None,
        default_model=MODEL,
        model_prices={MODEL: ModelPrice(input=1.0, output=2.0)},
    )
    runtime = Runtime(plugin_manager, settings=settings)
    with use_runtime(runtime):
        yield runtime


async def test_cost_is_summed_over_every_step_and_bounded_by_a_cost_budget(priced, provider):
    from .conftest import AgentModel

    provider.current = AgentModel(default=counter("out"))
    result = await pipeline(3).execute("start")
    assert result.estimated_cost_usd == pytest.approx(3 * 0.00002)
    assert [i["estimated_cost_usd"] for i in result.agent_interactions] == [
        pytest.approx(0.00002)
    ] * 3

    provider.current = AgentModel(default=counter("out"))
    stopped = await pipeline(6).execute("start", budget=Budget(max_cost_usd=0.00005))
    assert stopped.stop_reason == "budget_exceeded"
    assert stopped.model_calls == 3  # $0.00006 after 3 calls reached $0.00005
    assert "cost" in stopped.metadata["budget_reason"]


async def test_context_reaches_every_agent_with_the_task(model):
    m = model(default=counter("out"))
    context = {"audience": "beginners", "limits": {"words": 300}}
    result = await pipeline(2).execute("Write about tea", context=context)
    assert result.completed
    expected = 'Write about tea\n\nContext:\n- audience: beginners\n- limits: {"words": 300}'
    assert expected in m.prompts("S1")[0]
    assert len(m.log) == 2


async def test_no_context_leaves_the_task_as_given(model):
    m = model(default=counter("out"))
    await pipeline(1).execute("Write about tea")
    assert "Context:" not in m.prompts("S1")[0]
