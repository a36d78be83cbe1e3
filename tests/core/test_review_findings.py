"""Regression tests for defects found in review of the core."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable
from typing import Annotated

from pydantic import BaseModel, Field

from gluellm import hookimpl
from gluellm.api import GlueLLM, complete, stream_structured_complete
from gluellm.call import ModelCall, ModelResponse, StreamDelta
from gluellm.runtime import Runtime, override_transport
from gluellm.structured_stream import parse_partial_json
from gluellm.testing import FunctionTransport, ScriptedStream, ScriptedTransport
from gluellm.tools import Tool

from .conftest import MODEL


async def test_a_turn_in_flight_during_reset_is_not_remembered_by_the_fresh_conversation(
    runtime,
):
    gate = asyncio.Event()

    async def answer(call: ModelCall) -> str:
        if call.messages[-1]["content"] == "slow":
            await gate.wait()
        return "ok"

    with override_transport(FunctionTransport(answer)):
        client = GlueLLM(model="fn:model")
        await client.complete("first")
        slow = asyncio.create_task(client.complete("slow"))
        await asyncio.sleep(0.01)
        client.reset_conversation()  # "the next call starts fresh"
        gate.set()
        await slow
        assert client.conversation.messages_dict == []
        await client.complete("fresh")
    assert [m.content for m in client.conversation.messages] == ["fresh", "ok"]


class Reading(BaseModel):
    label: str
    value: int


def test_a_number_cut_midway_is_not_reported_as_a_partial_value():
    # "value": 1234 arriving as "12" then "34" must never show value=12.
    assert parse_partial_json('{"label": "a", "value": 12') == {"label": "a"}
    assert parse_partial_json('{"label": "a", "values": [1, 2') == {"label": "a", "values": [1]}
    assert parse_partial_json('{"label": "a", "value": 12,') == {"label": "a", "value": 12}
    assert parse_partial_json('{"label": "a", "value": 1234}') == {"label": "a", "value": 1234}


async def test_streamed_structured_partials_never_hold_a_truncated_number(runtime):
    pieces = ['{"label": ', '"x", ', '"value": ', "12", "34", "}"]
    deltas = [StreamDelta(content=piece) for piece in pieces]
    deltas.append(StreamDelta(finish_reason="stop"))
    transport = ScriptedTransport(ModelResponse(stream=ScriptedStream(deltas)))
    with override_transport(transport):
        items = [p async for p in stream_structured_complete("Read", Reading, model=MODEL)]
    assert items[-1].value == 1234
    assert [item.value for item in items if "value" in item.model_fields_set] == [1234, 1234]


def test_a_tool_function_is_not_kept_alive_by_the_schema_cache():
    # A request handler that defines its tools as closures over request data must not
    # accumulate every closure (and its data) for the life of the process.
    class RequestData:
        pass

    def make_client() -> tuple[GlueLLM, weakref.ref[RequestData]]:
        data = RequestData()

        def lookup(query: str) -> str:
            """Look something up in this request's data."""
            return f"{query}: {data!r}"

        return GlueLLM(model=MODEL, tools=[lookup]), weakref.ref(data)

    client, data = make_client()
    assert client.tools
    del client
    gc.collect()
    assert data() is None


def test_the_schema_cache_still_reuses_a_live_functions_tool():
    def lookup(query: str) -> str:
        """Look something up."""
        return query

    first = GlueLLM(model=MODEL, tools=[lookup])
    second = GlueLLM(model=MODEL, tools=[lookup])
    assert first._function_tools[0] is second._function_tools[0]


async def test_concurrent_first_calls_wait_for_the_plugins_startup(plugin_manager, runtime):
    events: list[str] = []

    class SlowStartup:
        @hookimpl
        def startup(self, runtime: Runtime) -> Awaitable[None]:
            async def start() -> None:
                events.append("startup began")
                await asyncio.sleep(0.05)  # e.g. opening a connection pool
                events.append("startup done")

            return start()

    plugin_manager.register(SlowStartup(), name="slow-startup")

    def answer(call: ModelCall) -> str:
        events.append("model called")
        return "ok"

    with override_transport(FunctionTransport(answer)):
        await asyncio.gather(*(complete("hi", model="fn:model") for _ in range(3)))
    assert events == ["startup began", "startup done"] + ["model called"] * 3


async def test_a_startup_hook_may_itself_call_the_model(plugin_manager, runtime):
    class WarmUp:
        @hookimpl
        def startup(self, runtime: Runtime) -> Awaitable[None]:
            return complete("warm up", model="fn:model")

    plugin_manager.register(WarmUp(), name="warm-up")
    transport = FunctionTransport(lambda call: "ok")
    with override_transport(transport):
        async with asyncio.timeout(5):
            result = await complete("hi", model="fn:model")
    assert result.final_response == "ok"
    assert [call.messages[-1]["content"] for call in transport.calls] == ["warm up", "hi"]


def test_an_annotated_field_description_reaches_the_tool_schema():
    def find_hotels(
        city: Annotated[str, Field(description="City name")],
        limit: Annotated[int, Field(description="How many", ge=1)] = 5,
    ) -> str:
        """Find hotels."""
        return city

    properties = Tool.from_function(find_hotels).parameters["properties"]
    assert properties["city"]["description"] == "City name"
    assert properties["limit"]["description"] == "How many"
    assert properties["limit"]["minimum"] == 1
