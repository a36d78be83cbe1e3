"""Tool schemas from signatures and docstrings; validated, coerced execution."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from gluellm.call import ToolCallRequest
from gluellm.tools import Tool, as_tools, execute_tool_call


def get_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather for a location.

    Args:
        location: City and country, e.g. "Tokyo, Japan"
        unit: Temperature unit
    """
    return f"Weather in {location}: 22°{unit[0].upper()}"


class Point(BaseModel):
    x: int
    y: int


def distance(a: Point, b: Point, scale: Annotated[float, Field(gt=0)] = 1.0) -> float:
    """Distance between two points."""
    return (((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5) * scale


def test_schema_comes_from_signature_hints_and_docstring():
    tool = Tool.from_function(get_weather)
    assert tool.name == "get_weather"
    assert tool.description == "Get the current weather for a location."
    props = tool.parameters["properties"]
    assert props["location"]["description"] == 'City and country, e.g. "Tokyo, Japan"'
    assert props["location"]["type"] == "string"
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["unit"]["default"] == "celsius"
    assert tool.parameters["required"] == ["location"]
    assert tool.definition()["function"]["name"] == "get_weather"


def test_nested_models_are_in_the_schema_and_coerced():
    tool = Tool.from_function(distance)
    assert "Point" in tool.parameters["$defs"]


async def test_arguments_are_validated_and_coerced():
    tools = as_tools([distance], {})
    request = ToolCallRequest(
        "c1", "distance", '{"a": {"x": "0", "y": 0}, "b": {"x": 3, "y": "4"}}'
    )
    execution = await execute_tool_call(request, tools)
    assert (execution.error, execution.result) == (False, "5.0")


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("nope", "{}", "unknown tool 'nope'. Available tools: distance, get_weather"),
        ("get_weather", '{"location": ', "are not valid JSON"),
        ("get_weather", '["Tokyo"]', "must be a JSON object"),
        ("get_weather", "{}", "location: Field required"),
        ("get_weather", '{"location": "x", "unit": "kelvin"}', "unit: Input should be"),
        ("get_weather", '{"location": "x", "extra": 1}', "extra: Extra inputs are not permitted"),
        ("distance", '{"a": {"x": 0, "y": 0}, "b": {"x": 1, "y": 1}, "scale": -1}', "scale"),
    ],
)
async def test_bad_calls_become_error_records(name, arguments, expected):
    tools = as_tools([get_weather, distance], {})
    execution = await execute_tool_call(ToolCallRequest("c1", name, arguments), tools)
    assert execution.error is True
    assert expected in execution.result
    assert execution.as_history_entry()["error"] is True


async def test_a_raising_tool_becomes_an_error_record():
    def explode(n: int) -> str:
        """Always fails."""
        raise ValueError(f"cannot handle {n}")

    execution = await execute_tool_call(
        ToolCallRequest("c1", "explode", '{"n": 3}'), as_tools([explode], {})
    )
    assert execution.error
    assert execution.result == "Error: 'explode' raised ValueError: cannot handle 3"
    assert execution.arguments == {"n": 3}


async def test_non_string_results_are_sent_as_json():
    def lookup(key: str) -> dict[str, object]:
        """Look a key up."""
        return {"key": key, "values": [1, 2]}

    execution = await execute_tool_call(
        ToolCallRequest("c1", "lookup", '{"key": "k"}'), as_tools([lookup], {})
    )
    assert execution.result == '{"key":"k","values":[1,2]}'


def test_tools_need_names_and_named_parameters():
    with pytest.raises(TypeError, match="needs a name"):
        Tool.from_function(lambda x: x)

    def variadic(*args: int) -> int:
        return 0

    with pytest.raises(TypeError, match=r"takes \*args"):
        Tool.from_function(variadic)


def test_duplicate_and_unknown_registered_names_are_rejected():
    with pytest.raises(ValueError, match="Two tools are named 'get_weather'"):
        as_tools([get_weather, get_weather], {})
    with pytest.raises(ValueError, match="No registered tool named 'search'"):
        as_tools(["search"], {})


async def test_pydantic_field_defaults_are_fields():
    def book(nights: int = Field(ge=1, description="How many nights"), city: str = "Oslo") -> str:
        """Book.

        Args:
            city: Where to stay.
        """
        return f"{nights} in {city}"

    tool = Tool.from_function(book)
    props = tool.parameters["properties"]
    assert props["nights"] == {
        "description": "How many nights",
        "minimum": 1,
        "title": "Nights",
        "type": "integer",
    }
    assert props["city"]["description"] == "Where to stay."
    assert tool.parameters["required"] == ["nights"]
    ok = await execute_tool_call(ToolCallRequest("c", "book", '{"nights": 2}'), {"book": tool})
    bad = await execute_tool_call(ToolCallRequest("c", "book", '{"nights": 0}'), {"book": tool})
    assert (ok.result, bad.error) == ("2 in Oslo", True)
