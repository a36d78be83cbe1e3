"""Tools: plain Python functions the model may call; GlueLLM runs the loop."""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


def get_weather(location: str, unit: str = "celsius") -> str:
    """Get the current weather for a location.

    Args:
        location: City and country, e.g. "Tokyo, Japan".
        unit: "celsius" or "fahrenheit".
    """
    return f"22 degrees {unit} and sunny in {location}"


async def main() -> None:
    """Run the example."""
    from gluellm import complete

    result = await complete(
        "What's the weather in Tokyo?",
        system_prompt="Use get_weather for weather questions.",
        tools=[get_weather],
    )
    for entry in result.tool_execution_history:
        print(f"tool: {entry['tool_name']}({entry['arguments']}) -> {entry['result']}")
    print("answer:", result.final_response)
    assert result.tool_calls_made >= 1
    print("TOOL CALLING OK")


asyncio.run(main())
