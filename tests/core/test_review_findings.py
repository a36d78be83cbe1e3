"""Regression tests for defects found in review of the core."""

from __future__ import annotations

import asyncio

from gluellm.api import GlueLLM
from gluellm.call import ModelCall
from gluellm.runtime import override_transport
from gluellm.testing import FunctionTransport


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
