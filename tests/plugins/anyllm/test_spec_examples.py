# ruff: noqa: E501  (the spec's examples are pasted unchanged, long lines included)
"""The spec's Quick Start and Core API examples, run unchanged against the fake server.

Each example runs in a fresh interpreter, as a user would run it, with only
``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` (and test keys) pointing it at the fake
server; the answers come back through any-llm -> provider SDK -> HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

SIMPLE_COMPLETION = """
import asyncio
from gluellm.api import complete

async def main():
    result = await complete(
        user_message="What is the capital of France?",
        system_prompt="You are a helpful geography assistant.",
    )
    print(result.final_response)

asyncio.run(main())
"""

TOOL_EXECUTION = '''
import asyncio
from gluellm.api import complete

def get_weather(location: str, unit: str = "celsius") -> str:
    """Get the current weather for a location.

    Args:
        location: City and country, e.g. "Tokyo, Japan"
        unit: Temperature unit ("celsius" or "fahrenheit")
    """
    return f"Weather in {location}: 22°{unit[0].upper()}, sunny"

async def main():
    result = await complete(
        user_message="What's the weather in Tokyo and Paris?",
        system_prompt="You are a weather assistant. Use get_weather for queries.",
        tools=[get_weather],
    )

    print(result.final_response)
    print(f"Tool calls made: {result.tool_calls_made}")

asyncio.run(main())
'''

STRUCTURED_OUTPUT = """
import asyncio
from gluellm.api import structured_complete
from pydantic import BaseModel, Field
from typing import Annotated

class PersonInfo(BaseModel):
    name: Annotated[str, Field(description="Full name")]
    age: Annotated[int, Field(description="Age in years")]
    city: Annotated[str, Field(description="City of residence")]

async def main():
    person = await structured_complete(
        user_message="Extract info: John Smith, 35, lives in Seattle",
        response_format=PersonInfo,
    )

    print(f"{person.name} is {person.age} years old and lives in {person.city}")

asyncio.run(main())
"""

# The Core API section shows fragments that use names it never defines (my_tool,
# my_store, MyModel, calculator, lookup_tool, PersonInfo); this prelude defines them,
# and the fragments below are pasted unchanged into an async main().
CORE_PRELUDE = '''
import asyncio
from pydantic import BaseModel

def my_tool(query: str) -> str:
    """Look something up.

    Args:
        query: What to look up.
    """
    return f"result for {query}"

calculator = lookup_tool = my_tool
my_store = None

class MyModel(BaseModel):
    value: str

class PersonInfo(BaseModel):
    name: str
    age: int
'''

CORE_CLIENT = """
from gluellm.api import GlueLLM

client = GlueLLM(
    model="openai:gpt-4o-mini",          # Model in "provider:model" format
    system_prompt="You are helpful.",    # System prompt (optional)
    tools=[my_tool],                     # List of tools (optional)
    max_tool_iterations=10,              # Max tool execution loops (optional)
    eval_store=my_store,                 # Evaluation store (optional)
)

# Make completions with conversation memory
result = await client.complete("My favorite color is blue")
result = await client.complete("What's my favorite color?")  # Remembers context

# Structured completions
data = await client.structured_complete("Extract data...", response_format=MyModel)

# Reset conversation history
client.reset_conversation()
"""

CORE_FUNCTIONS = """
from gluellm.api import complete, structured_complete

# Simple completion
result = await complete(
    user_message="What is 2+2?",
    model="openai:gpt-4o-mini",          # Optional, defaults to config
    system_prompt="You are helpful.",    # Optional
    tools=[calculator],                  # Optional
    execute_tools=True,                  # Optional, default True
    max_tool_iterations=10,              # Optional
)

# Structured completion
person = await structured_complete(
    user_message="Extract: Jane Doe, age 28",
    response_format=PersonInfo,
    model="openai:gpt-4o-mini",          # Optional
    system_prompt="Extract data.",       # Optional
    tools=[lookup_tool],                 # Optional - can call tools before returning structured output
    execute_tools=True,                  # Optional, default True
    max_tool_iterations=10,              # Optional
)
"""

CORE_RESULT = """
# Access result data
result = await complete("Query with tools...", tools=[my_tool])
print(result.final_response)
print(f"Made {result.tool_calls_made} tool calls")

# Token usage tracking
if result.tokens_used:
    print(f"Tokens used: {result.tokens_used['total']}")
    print(f"  Prompt: {result.tokens_used['prompt']}")
    print(f"  Completion: {result.tokens_used['completion']}")

for exec_info in result.tool_execution_history:
    print(f"{exec_info['tool_name']}({exec_info['arguments']}) -> {exec_info['result']}")
"""


def as_program(*fragments: str) -> str:
    body = "\n".join(textwrap.indent(textwrap.dedent(f), "    ") for f in fragments)
    return f"{CORE_PRELUDE}\nasync def main():\n{body}\n    print('done')\n\nasyncio.run(main())\n"


def run_example(code: str, cwd: Path, **env: str) -> str:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GLUELLM_", "OPENAI_", "ANTHROPIC_"))
    }
    # Only the transport under test: no retries could hide an extra request.
    environment["GLUELLM_LOAD_PLUGINS"] = "anyllm"
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"):
        environment[name] = os.environ[name]
    environment.update(env)
    finished = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    # Clients are closed with their event loop: nothing leaks or warns at exit.
    assert "Unclosed" not in finished.stderr, finished.stderr
    return finished.stdout


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("openai:gpt-4o-mini", "/v1/chat/completions"),
        ("anthropic:claude-3-5-sonnet-20241022", "/v1/messages"),
    ],
)
def test_simple_completion(
    fake_provider_env: FakeProviderServer, tmp_path: Path, model: str, path: str
) -> None:
    fake_provider_env.enqueue(FakeReply.text("The capital of France is Paris."))
    out = run_example(SIMPLE_COMPLETION, tmp_path, GLUELLM_DEFAULT_MODEL=model)
    assert out == "The capital of France is Paris.\n"
    (request,) = fake_provider_env.chat_requests
    assert request.path == path


def test_tool_execution(fake_provider_env: FakeProviderServer, tmp_path: Path) -> None:
    fake_provider_env.enqueue(
        FakeReply.tool_calls(
            ("get_weather", {"location": "Tokyo, Japan"}),
            ("get_weather", {"location": "Paris, France", "unit": "fahrenheit"}),
        ),
        FakeReply.text("Tokyo: 22°C and sunny. Paris: 22°F and sunny."),
    )
    out = run_example(TOOL_EXECUTION, tmp_path)
    assert out == "Tokyo: 22°C and sunny. Paris: 22°F and sunny.\nTool calls made: 2\n"
    _first, second = fake_provider_env.chat_requests
    results = [m["content"] for m in second.body["messages"] if m["role"] == "tool"]
    assert results == [
        "Weather in Tokyo, Japan: 22°C, sunny",
        "Weather in Paris, France: 22°F, sunny",
    ]


def test_structured_output(fake_provider_env: FakeProviderServer, tmp_path: Path) -> None:
    fake_provider_env.enqueue(FakeReply.json({"name": "John Smith", "age": 35, "city": "Seattle"}))
    out = run_example(STRUCTURED_OUTPUT, tmp_path)
    assert out == "John Smith is 35 years old and lives in Seattle\n"
    (request,) = fake_provider_env.chat_requests
    assert request.body["response_format"]["json_schema"]["name"] == "PersonInfo"


def test_core_api_client(fake_provider_env: FakeProviderServer, tmp_path: Path) -> None:
    fake_provider_env.enqueue(
        FakeReply.text("Noted: blue."),
        FakeReply.text("Your favorite color is blue."),
        FakeReply.json({"value": "data"}),
    )
    out = run_example(as_program(CORE_CLIENT), tmp_path)
    assert out == "done\n"
    requests = fake_provider_env.chat_requests
    assert len(requests) == 3
    assert "My favorite color is blue" in str(requests[1].body["messages"])


def test_core_api_functions_and_result(
    fake_provider_env: FakeProviderServer, tmp_path: Path
) -> None:
    fake_provider_env.enqueue(
        FakeReply.text("4", usage=(10, 1)),
        FakeReply.tool_calls(("lookup_tool", {"query": "Jane Doe"})),
        FakeReply.json({"name": "Jane Doe", "age": 28}),
        FakeReply.tool_calls(("my_tool", {"query": "weather"}), usage=(20, 4)),
        FakeReply.text("It is nice.", usage=(30, 3)),
    )
    out = run_example(as_program(CORE_FUNCTIONS, CORE_RESULT), tmp_path)
    assert out.splitlines() == [
        "It is nice.",
        "Made 1 tool calls",
        "Tokens used: 57",
        "  Prompt: 50",
        "  Completion: 7",
        "my_tool({'query': 'weather'}) -> result for weather",
        "done",
    ]
    assert len(fake_provider_env.chat_requests) == 5
