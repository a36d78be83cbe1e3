"""The offline test model (`test:` provider) through the real entry-point plugin."""

from __future__ import annotations

import json
from datetime import date
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from gluellm.api import GlueLLM, complete, structured_complete
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_mock import plugin, value_for_schema


@pytest.fixture(autouse=True)
def runtime():
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(plugin, name="mock")
    with use_runtime(Runtime(manager)) as rt:
        yield rt


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str
    country: str


class Person(BaseModel):
    name: str
    age: int = Field(ge=18, le=130)
    addresses: list[Address] = Field(min_length=2)
    occupation: str | None = None
    favorite: Color
    born: date
    kind: Literal["human"]
    code: str = Field(min_length=12, max_length=12)


async def test_structured_output_validates_for_a_complex_schema():
    person = await structured_complete("Extract Sarah", response_format=Person, model="test:x")
    assert len(person.addresses) == 2
    assert person.age >= 18
    assert person.kind == "human"
    assert len(person.code) == 12


def test_values_validate_for_every_schema_shape():
    value = value_for_schema(Person.model_json_schema())
    Person.model_validate(value)
    assert value_for_schema({"type": "number", "exclusiveMinimum": 5}) > 5
    assert value_for_schema({"type": "integer", "maximum": -3}) == -3
    assert value_for_schema({"type": ["null", "boolean"]}) is True


async def test_tools_are_called_with_schema_valid_arguments_then_summarized():
    seen = []

    def book(city: str, nights: int = Field(ge=1), rooms: list[int] | None = None) -> str:
        """Book a hotel."""
        seen.append((city, nights))
        return f"booked {nights} night(s) in {city}"

    def weather(location: str) -> str:
        """Weather."""
        return f"sunny in {location}"

    result = await complete("Plan my trip", model="test:x", tools=[book, weather])
    assert result.tool_calls_made == 2
    assert not any(entry["error"] for entry in result.tool_execution_history)
    assert seen == [("test city", 1)]
    assert (
        result.final_response
        == "Tool results: booked 1 night(s) in test city; sunny in test location"
    )
    assert result.tokens_used["total"] > 0


async def test_structured_output_after_tools():
    class Report(BaseModel):
        summary: str

    def lookup(key: str) -> str:
        """Lookup."""
        return "42"

    report = await structured_complete(
        "Report", response_format=Report, tools=[lookup], model="test:x"
    )
    assert report.tool_calls_made == 1
    assert report.summary


async def test_memory_shows_in_the_answers_and_is_deterministic():
    client = GlueLLM(model="test:x")
    await client.complete("My favorite number is 42")
    first = (await client.complete("What's my favorite number?")).final_response
    assert "Earlier you said: 'My favorite number is 42'" in first
    client.reset_conversation()
    again = (await client.complete("What's my favorite number?")).final_response
    assert "Earlier" not in again
    assert json.dumps(first) == json.dumps(first)  # plain str, deterministic below
    client2 = GlueLLM(model="test:x")
    await client2.complete("My favorite number is 42")
    assert (await client2.complete("What's my favorite number?")).final_response == first
