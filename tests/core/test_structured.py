"""Structured output: validation, bounded re-asks, tools first, run metadata."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from gluellm.api import GlueLLM, structured_complete
from gluellm.errors import StructuredOutputError
from gluellm.testing import reply, tool_call

from .conftest import MODEL


class PersonInfo(BaseModel):
    name: Annotated[str, Field(description="Full name")]
    age: Annotated[int, Field(description="Age in years")]
    city: Annotated[str, Field(description="City of residence")]


async def test_returns_the_validated_instance(scripted):
    scripted.add('{"name": "John Smith", "age": 35, "city": "Seattle"}')
    person = await structured_complete(
        "Extract: John Smith, 35, Seattle", response_format=PersonInfo, model=MODEL
    )
    assert person == PersonInfo(name="John Smith", age=35, city="Seattle")
    assert scripted.calls[0].response_format is PersonInfo


async def test_reasks_with_the_validation_error_and_succeeds(scripted):
    scripted.add(
        '{"name": "John Smith", "age": "thirty-five"}',
        '```json\n{"name": "John Smith", "age": 35, "city": "Seattle"}\n```',
    )
    person = await structured_complete("Extract", response_format=PersonInfo, model=MODEL)
    assert person.age == 35
    reask = scripted.calls[1].messages[-1]
    assert reask["role"] == "user"
    assert "age: Input should be a valid integer" in reask["content"]
    assert "city: Field required" in reask["content"]
    assert (
        scripted.calls[1].messages[-2]["content"] == '{"name": "John Smith", "age": "thirty-five"}'
    )


async def test_when_reasks_run_out_the_error_carries_the_last_raw_output(scripted, monkeypatch):
    monkeypatch.setenv("GLUELLM_STRUCTURED_OUTPUT_MAX_RETRIES", "1")
    from gluellm.config import reload_settings

    reload_settings()
    try:
        scripted.add("not json", "still not json")
        with pytest.raises(StructuredOutputError) as info:
            await structured_complete("Extract", response_format=PersonInfo, model=MODEL)
    finally:
        monkeypatch.undo()
        reload_settings()
    assert info.value.raw_output == "still not json"
    assert info.value.attempts == 2
    assert len(scripted.calls) == 2


async def test_tools_run_before_the_structured_answer_and_metadata_is_reachable(scripted):
    class WeatherReport(BaseModel):
        location: str
        temperature: float

    def get_weather(city: str) -> dict[str, object]:
        """Fetch current weather for a city."""
        return {"temp": 18, "conditions": "sunny"}

    scripted.add(
        reply(tool_calls=[tool_call("get_weather", {"city": "San Francisco"})], usage=(5, 5)),
        reply('{"location": "San Francisco", "temperature": 18}', usage=(7, 3)),
    )
    report = await structured_complete(
        "Weather report for SF", response_format=WeatherReport, tools=[get_weather], model=MODEL
    )
    assert report.temperature == 18.0
    assert report.tool_calls_made == 1
    assert report.tokens_used == {"prompt": 12, "completion": 8, "total": 20}
    assert report.tool_execution_history[0]["result"] == '{"temp":18,"conditions":"sunny"}'
    assert report.model_dump() == {"location": "San Francisco", "temperature": 18.0}


async def test_a_field_named_like_metadata_is_left_alone(scripted):
    class Odd(BaseModel):
        tool_calls_made: str

    scripted.add('{"tool_calls_made": "mine"}')
    odd = await structured_complete("x", response_format=Odd, model=MODEL)
    assert odd.tool_calls_made == "mine"


async def test_client_structured_complete_keeps_the_conversation(scripted):
    class Answer(BaseModel):
        answer: str

    client = GlueLLM(model=MODEL)
    scripted.add('{"answer": "4"}', "You asked about 2+2.")
    data = await client.structured_complete("What is 2+2?", response_format=Answer)
    assert data.answer == "4"
    await client.complete("What did I ask?")
    assert [m["content"] for m in scripted.calls[1].messages][1:] == [
        "What is 2+2?", '{"answer": "4"}', "What did I ask?",
    ]  # fmt: skip
