"""Budgets over a scripted tool loop, with each turn priced by the prices plugin."""

from __future__ import annotations

import pytest
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from gluellm.api import GlueLLM, complete
from gluellm.costs import Budget
from gluellm.errors import BudgetExceededError
from gluellm.testing import ScriptedTransport, override_transport, reply, tool_call

MODEL = "openai:gpt-4o-mini"
TURN = (1000, 100)  # prompt, completion tokens of every scripted turn


def turn_cost() -> float:
    usage = PriceUsage(input_tokens=TURN[0], output_tokens=TURN[1])
    return float(calc_price(usage, "gpt-4o-mini", provider_id="openai").total_price)


def lookup(city: str) -> str:
    """Look a city up.

    Args:
        city: The city.
    """
    return f"{city}: sunny"


def tool_turns(count: int) -> list:
    steps = [
        reply(tool_calls=[tool_call("lookup", {"city": f"city{i}"})], usage=TURN)
        for i in range(count)
    ]
    return [*steps, reply("All done.", usage=TURN)]


async def test_the_loop_stops_before_the_turn_that_would_start_over_budget(runtime):
    transport = ScriptedTransport(*tool_turns(4))
    budget = Budget(max_cost_usd=2 * turn_cost() - 1e-9)  # two turns reach it

    with override_transport(transport), pytest.raises(BudgetExceededError) as caught:
        await complete("Weather tour", model=MODEL, tools=[lookup], budget=budget)

    error = caught.value
    assert len(transport.calls) == 2  # the third turn was never sent
    partial = error.result
    assert partial is not None
    assert partial.tool_calls_made == 2
    assert [e["result"] for e in partial.tool_execution_history] == [
        "city0: sunny",
        "city1: sunny",
    ]
    assert partial.estimated_cost_usd == pytest.approx(2 * turn_cost(), rel=1e-12)
    assert partial.tokens_used == {"prompt": 2000, "completion": 200, "total": 2200}
    assert "cost" in error.reason
    assert "Stopped before model turn 3" in str(error)


async def test_a_run_within_budget_finishes_and_reports_its_cost(runtime):
    transport = ScriptedTransport(*tool_turns(2))
    budget = Budget(max_cost_usd=10 * turn_cost())

    with override_transport(transport):
        result = await complete("Weather tour", model=MODEL, tools=[lookup], budget=budget)

    assert result.final_response == "All done."
    assert len(transport.calls) == 3
    assert result.estimated_cost_usd == pytest.approx(3 * turn_cost(), rel=1e-12)


async def test_a_clients_budget_applies_to_each_of_its_runs(runtime):
    client = GlueLLM(model=MODEL, tools=[lookup], budget=Budget(max_cost_usd=turn_cost() / 2))
    transport = ScriptedTransport(*tool_turns(3))

    with override_transport(transport), pytest.raises(BudgetExceededError) as caught:
        await client.complete("Weather tour")

    assert len(transport.calls) == 1
    assert caught.value.result is not None
    assert caught.value.result.tool_calls_made == 1


async def test_a_token_budget_stops_the_loop_too(runtime):
    transport = ScriptedTransport(*tool_turns(4))

    with override_transport(transport), pytest.raises(BudgetExceededError) as caught:
        await complete("Weather tour", model=MODEL, tools=[lookup], budget=Budget(max_tokens=3000))

    assert len(transport.calls) == 3  # 1100, 2200, 3300 tokens: the fourth never starts
    assert "tokens" in caught.value.reason
