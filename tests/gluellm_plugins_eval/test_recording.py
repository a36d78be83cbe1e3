"""Every kind of run is recorded, with the fields the spec lists, through the public API."""

from __future__ import annotations

import contextlib
from pathlib import Path

import attrs
import pytest
from pydantic import BaseModel

from gluellm.api import GlueLLM, complete, embed, stream_complete, structured_complete
from gluellm.errors import APIConnectionError, AuthenticationError, MaxToolIterationsError
from gluellm.eval import (
    CallbackStore,
    JSONLFileStore,
    disable_recording,
    enable_callback_recording,
    enable_file_recording,
    get_global_eval_store,
)
from gluellm.models.eval import EvalRecord
from gluellm.runs import run_group
from gluellm.testing import ScriptedTransport, reply, streamed, tool_call

from .conftest import MODEL, read_jsonl


def get_weather(city: str) -> str:
    """Get weather for a city.

    Args:
        city: The city.
    """
    return f"Sunny in {city}, 72°F"


class Answer(BaseModel):
    number: int
    reasoning: str


async def test_complete_with_tools_records_every_spec_field(
    scripted: ScriptedTransport, tmp_path: Path
):
    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"city": "Paris"})], usage=(10, 2)),
        reply("It is sunny in Paris.", usage=(20, 5)),
    )
    store = JSONLFileStore(tmp_path / "r.jsonl")
    client = GlueLLM(model=MODEL, system_prompt="Be brief.", tools=[get_weather], eval_store=store)
    result = await client.complete("What's the weather in Paris?", correlation_id="cid-1")
    await store.close()

    (record,) = read_jsonl(tmp_path / "r.jsonl")
    assert record["user_message"] == "What's the weather in Paris?"
    assert record["system_prompt"] == "Be brief."
    assert record["model"] == MODEL
    assert record["correlation_id"] == "cid-1"
    assert record["final_response"] == result.final_response == "It is sunny in Paris."
    assert record["tool_calls_made"] == 1
    assert record["tools_available"] == ["get_weather"]
    (entry,) = record["tool_execution_history"]
    assert entry["tool_name"] == "get_weather"
    assert entry["arguments"] == {"city": "Paris"}
    assert entry["result"] == "Sunny in Paris, 72°F"
    assert record["tokens_used"] == {"prompt": 30, "completion": 7, "total": 37}
    assert [m["role"] for m in record["messages_snapshot"]] == ["system", "user"]
    assert record["success"] is True
    assert record["status"] == "ok"
    assert "error_type" not in record  # None fields are left out of the line
    assert record["latency_ms"] > 0
    assert record["model_calls"] == 2
    assert record["operation"] == "complete"
    assert record["run_id"] == record["root_run_id"]
    assert "parent_run_id" not in record
    assert EvalRecord.model_validate(record).id == record["id"]


async def test_structured_output_is_serialised(scripted: ScriptedTransport):
    scripted.add('{"number": 4, "reasoning": "2+2"}')
    records: list[EvalRecord] = []
    enable_callback_recording(records.append)
    answer = await structured_complete("What is 2+2?", response_format=Answer)
    await get_global_eval_store().close()
    assert answer.number == 4
    (record,) = records
    assert record.structured_output == {"number": 4, "reasoning": "2+2"}
    assert record.operation == "structured_complete"


async def test_errors_are_recorded_with_type_and_message(scripted: ScriptedTransport):
    scripted.add(AuthenticationError("Incorrect API key provided"))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    with pytest.raises(AuthenticationError):
        await complete("Hello", eval_store=store)
    await store.close()
    (record,) = records
    assert record.success is False
    assert record.status == "error"
    assert record.error_type == "AuthenticationError"
    assert "Incorrect API key" in (record.error_message or "")


async def test_a_failed_tool_loop_keeps_its_partial_history(scripted: ScriptedTransport):
    scripted.add(*(reply(tool_calls=[tool_call("get_weather", {"city": "Rome"})]),) * 2)
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    client = GlueLLM(model=MODEL, tools=[get_weather], max_tool_iterations=1, eval_store=store)
    with pytest.raises(MaxToolIterationsError):
        await client.complete("Weather?")
    await store.close()
    (record,) = records
    assert record.error_type == "MaxToolIterationsError"
    assert record.tool_calls_made == 1
    assert record.tool_execution_history[0]["result"] == "Sunny in Rome, 72°F"


async def test_unknown_provider_is_recorded(runtime, tmp_path: Path):
    # The spec's error-recording example: a model no transport serves.
    store = JSONLFileStore(tmp_path / "errors.jsonl")
    client = GlueLLM(eval_store=store)
    with contextlib.suppress(Exception):
        await client.complete("Hello", model="invalid:model-name")
    await store.close()
    (record,) = read_jsonl(tmp_path / "errors.jsonl")
    assert record["success"] is False
    assert record["error_type"] == "ConfigurationError"
    assert record["model"] == "invalid:model-name"


async def test_streams_are_recorded_when_they_end(scripted: ScriptedTransport):
    scripted.add(streamed(reply("one two three", usage=(3, 3))))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    chunks = [c async for c in stream_complete("Count", eval_store=store)]
    await store.close()
    assert chunks[-1].done
    (record,) = records
    assert record.operation == "stream_complete"
    assert record.final_response == "one two three"
    assert record.status == "ok"
    assert record.tokens_used == {"prompt": 3, "completion": 3, "total": 6}


async def test_a_stream_abandoned_early_is_recorded_as_closed(scripted: ScriptedTransport):
    scripted.add(streamed("one two three four five six"))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    async with contextlib.aclosing(stream_complete("Count", eval_store=store)) as chunks:
        async for _chunk in chunks:
            break
    await store.close()
    (record,) = records
    assert record.status == "closed"
    assert record.success is False


async def test_a_cut_stream_is_recorded_as_an_error(scripted: ScriptedTransport):
    scripted.add(streamed("one two three four", cut_after=2))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)

    async def read() -> None:
        async for _chunk in stream_complete("Count", eval_store=store):
            pass

    with pytest.raises(APIConnectionError):
        await read()
    await store.close()
    (record,) = records
    assert record.status == "error"
    assert record.error_type == "APIConnectionError"


async def test_embeddings_are_recorded(scripted: ScriptedTransport):
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    result = await embed(["a", "b", "c"], model="scripted:embedder", eval_store=store)
    await store.close()
    (record,) = records
    assert record.operation == "embed"
    assert record.metadata["input"] == ["a", "b", "c"]
    assert record.metadata["embedding_count"] == result.count == 3
    assert record.metadata["embedding_dimension"] == result.dimension


async def test_group_steps_tie_back_to_their_group(scripted: ScriptedTransport):
    scripted.add("step one", "step two")
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)

    async def body() -> str:
        first = await complete("one")
        second = await complete("two")
        return first.final_response + " / " + second.final_response

    out = await run_group(
        "workflow", body, name="pipeline", eval_store=store, metadata={"pattern": "chain"}
    )
    await store.close()
    assert out == "step one / step two"
    group = next(r for r in records if r.operation == "workflow")
    steps = [r for r in records if r.operation == "complete"]
    assert len(steps) == 2
    assert group.name == "pipeline"
    assert group.final_response is None or group.structured_output == out
    for step in steps:
        assert step.parent_run_id == group.run_id
        assert step.root_run_id == group.run_id
        assert step.metadata["parent_operation"] == "workflow"
        assert step.metadata["parent_name"] == "pipeline"
        assert step.metadata["parent_metadata"] == {"pattern": "chain"}
    assert group.model_calls == 2


async def test_client_store_wins_over_global_store(scripted: ScriptedTransport, tmp_path: Path):
    scripted.add("global", "instance")
    global_store = enable_file_recording(tmp_path / "global.jsonl")
    instance_store = JSONLFileStore(tmp_path / "instance.jsonl")
    await GlueLLM(model=MODEL).complete("to global")
    await GlueLLM(model=MODEL, eval_store=instance_store).complete("to instance")
    await global_store.close()
    await instance_store.close()
    assert [r["user_message"] for r in read_jsonl(tmp_path / "global.jsonl")] == ["to global"]
    assert [r["user_message"] for r in read_jsonl(tmp_path / "instance.jsonl")] == ["to instance"]


async def test_disable_recording_stops_the_global_store(scripted: ScriptedTransport):
    scripted.add("a", "b")
    records: list[EvalRecord] = []
    store = enable_callback_recording(records.append)
    await complete("recorded")
    assert disable_recording() is store
    assert get_global_eval_store() is None
    await complete("not recorded")
    await store.close()
    assert [r.user_message for r in records] == ["recorded"]


async def test_no_store_means_no_middleware(runtime):
    # Nothing to record to: the plugin stays out of the run entirely.
    from gluellm.runs import RunRequest
    from gluellm_plugins_eval.recorder import middleware_for

    run = RunRequest(operation="complete", runtime=runtime, correlation_id="c")
    assert middleware_for(run) is None
    assert run.extensions == {}


async def test_secrets_never_reach_a_record(scripted: ScriptedTransport, monkeypatch):
    canary = "sk-eval-canary-0123456789abcdef"
    pool_key = "sk-pool-canary-abcdef0123456789"
    monkeypatch.setenv("MISTRAL_API_KEY", "env-canary-secret-value")
    raw = {
        "choices": [{"message": {"content": "hi"}}],
        "headers": {"Authorization": f"Bearer {canary}", "x-api-key": canary},
        "request": {"api_key": canary, "note": "sent with env-canary-secret-value"},
    }
    scripted.add(attrs.evolve(reply("hi"), raw=raw))
    scripted.add(AuthenticationError(f"Incorrect API key provided: {pool_key}"))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    await complete("hi", api_key=canary, eval_store=store)
    from gluellm.models.batch import APIKeyConfig

    client = GlueLLM(
        model=MODEL,
        api_keys=[APIKeyConfig(key=pool_key, provider="scripted")],
        eval_store=store,
    )
    with pytest.raises(AuthenticationError):
        await client.complete("again")
    await store.close()
    dumped = [r.model_dump_json() for r in records]
    assert len(dumped) == 2
    for text in dumped:
        assert canary not in text
        assert pool_key not in text
        assert "env-canary-secret-value" not in text
    assert records[0].raw_response["headers"] == {
        "Authorization": "[REDACTED]",
        "x-api-key": "[REDACTED]",
    }
    assert records[0].raw_response["request"]["note"] == "sent with [REDACTED]"
    assert records[1].error_message == "Incorrect API key provided: [REDACTED]"


def test_long_lists_are_cut_with_a_count():
    from gluellm_plugins_eval.records import MAX_ITEMS, Scrubber

    data = Scrubber().data({"responses": list(range(MAX_ITEMS + 5))})
    assert data["responses"][:MAX_ITEMS] == list(range(MAX_ITEMS))
    assert data["responses"][MAX_ITEMS:] == ["... 5 more items not recorded"]


def test_key_shapes_are_masked_even_when_never_seen():
    from gluellm_plugins_eval.records import Scrubber

    scrub = Scrubber()
    text = "keys sk-proj-AAAAbbbbCCCCdddd1234 and xai-0123456789abcdefXYZ, not sk-learn"
    assert scrub.text(text) == "keys [REDACTED] and [REDACTED], not sk-learn"
    assert scrub.text("Authorization: Bearer abc.def") == "Authorization: Bearer [REDACTED]"


async def test_raising_and_sleeping_callbacks_never_touch_the_completion(
    scripted: ScriptedTransport,
):
    import threading

    scripted.add("first", "second")
    release = threading.Event()
    finished: list[str] = []

    def raises(record: EvalRecord) -> None:
        raise RuntimeError("storage down")

    def sleeps(record: EvalRecord) -> None:
        release.wait(5)  # "sleeps 5 s", unless the test is over
        finished.append(record.user_message or "")

    failing, sleeping = CallbackStore(raises), CallbackStore(sleeps)
    assert (await complete("a", eval_store=failing)).final_response == "first"
    assert (await complete("b", eval_store=sleeping)).final_response == "second"
    # The completion returned while its record's callback was still sleeping.
    assert finished == []
    release.set()
    await failing.close()
    await sleeping.close()
    assert finished == ["b"]
    assert failing.stats.failed == 1


async def test_shutting_a_runtime_down_flushes_the_global_store(runtime, scripted):
    import asyncio

    scripted.add("hi")
    got: list[EvalRecord] = []

    async def slow(record: EvalRecord) -> None:
        await asyncio.sleep(0.05)  # still storing when the runtime starts closing
        got.append(record)

    store = enable_callback_recording(slow)
    await complete("flushed at shutdown")
    await runtime.aclose()
    assert [r.user_message for r in got] == ["flushed at shutdown"]
    await store.close()


async def test_a_user_redactor_runs_before_storing(scripted: ScriptedTransport):
    scripted.add("my phone is 555-1234", "nothing to hide")
    records: list[EvalRecord] = []

    def redact(record: EvalRecord) -> EvalRecord | None:
        if record.user_message == "skip me":
            return None
        text = (record.final_response or "").replace("555-1234", "<phone>")
        return record.model_copy(update={"final_response": text})

    store = CallbackStore(records.append, redact=redact)
    await complete("call me", eval_store=store)
    await complete("skip me", eval_store=store)
    await store.close()
    assert [r.final_response for r in records] == ["my phone is <phone>"]
    assert store.stats.skipped == 1
    assert store.stats.written == 1


async def test_batch_items_tie_back_to_their_batch(runtime):
    batch = pytest.importorskip("gluellm_plugins_batch")
    from gluellm.runtime import override_transport
    from gluellm.testing import FunctionTransport

    records: list[EvalRecord] = []
    store = enable_callback_recording(records.append)
    with override_transport(FunctionTransport(lambda call: "ok")):
        answers = await batch.batch_complete_simple(["a", "b", "c"], model=MODEL)
    await store.close()
    assert answers == ["ok", "ok", "ok"]
    # batch -> one batch_request group per request -> the request's complete() run.
    (group,) = [r for r in records if r.operation == "batch"]
    requests = {r.run_id: r for r in records if r.operation == "batch_request"}
    items = [r for r in records if r.operation == "complete"]
    assert sorted(r.user_message or "" for r in items) == ["a", "b", "c"]
    assert {r.root_run_id for r in items} == {group.run_id}
    assert {r.parent_run_id for r in requests.values()} == {group.run_id}
    for item in items:
        request = requests[item.parent_run_id]
        assert item.metadata["parent_metadata"]["batch_id"] == group.name
        assert request.metadata["batch_request_id"] == item.metadata["parent_name"]
    assert group.model_calls == 3


async def test_a_cancelled_run_is_recorded_as_cancelled(scripted: ScriptedTransport):
    import asyncio

    started = asyncio.Event()

    async def never_answers(call):
        started.set()
        await asyncio.sleep(3600)

    scripted.add(never_answers)
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    task = asyncio.create_task(complete("waiting", eval_store=store))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.close()
    (record,) = records
    assert record.status == "cancelled"
    assert record.success is False
    assert record.error_type == "CancelledError"


async def test_a_user_store_wrapping_a_built_in_one_loses_nothing_on_close(
    scripted: ScriptedTransport, tmp_path: Path
):
    class Wrapper:  # the spec's ConditionalStore shape, without the condition
        def __init__(self, base_store: JSONLFileStore):
            self.base_store = base_store

        async def record(self, record: EvalRecord) -> None:
            await self.base_store.record(record)

        async def close(self) -> None:
            await self.base_store.close()

    scripted.add("one", "two")
    store = Wrapper(JSONLFileStore(tmp_path / "w.jsonl"))
    client = GlueLLM(model=MODEL, eval_store=store)
    await client.complete("first")
    await client.complete("second")
    await store.close()  # no flush_recording(): closing the inner store delivers first
    assert [r["user_message"] for r in read_jsonl(tmp_path / "w.jsonl")] == ["first", "second"]


async def test_streamed_structured_output_is_recorded(scripted: ScriptedTransport):
    from gluellm.api import stream_structured_complete

    scripted.add(streamed('{"number": 4, "reasoning": "2+2"}'))
    records: list[EvalRecord] = []
    store = CallbackStore(records.append)
    partials = [p async for p in stream_structured_complete("2+2?", Answer, eval_store=store)]
    await store.close()
    assert partials[-1].number == 4
    (record,) = records
    assert record.operation == "stream_structured_complete"
    assert record.structured_output == {"number": 4, "reasoning": "2+2"}
