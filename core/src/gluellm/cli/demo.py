"""``gluellm demo``: the README's first command. Works offline on the test model."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from pydantic import BaseModel, Field

from gluellm.plugins import PluginManager

OFFLINE_MODEL = "test:gluellm-test"


def get_weather(location: str, unit: str = "celsius") -> str:
    """Get the current weather for a location.

    Args:
        location: City and country, e.g. "Tokyo, Japan".
        unit: Temperature unit ("celsius" or "fahrenheit").
    """
    return f"Weather in {location}: 22°{unit[0].upper()}, sunny"


class PersonInfo(BaseModel):
    """The demo's structured-output model."""

    name: Annotated[str, Field(description="Full name")]
    age: Annotated[int, Field(description="Age in years")]
    city: Annotated[str, Field(description="City of residence")]


class CityInfo(BaseModel):
    """What ``test-structured-output`` extracts."""

    city: Annotated[str, Field(description="City name")]
    country: Annotated[str, Field(description="Country the city is in")]
    population: Annotated[int, Field(description="Number of inhabitants")]


KEYLESS_PROVIDERS = frozenset({"test", "ollama", "lmstudio", "llamafile", "llamacpp", "vllm"})
"""Providers that answer without an API key (local servers and the test model)."""


def has_key(provider: str) -> bool:
    """Whether ``GLUELLM_<PROVIDER>_API_KEY`` or ``<PROVIDER>_API_KEY`` is set."""
    names = (f"GLUELLM_{provider.upper()}_API_KEY", f"{provider.upper()}_API_KEY")
    return any(os.environ.get(name) for name in names)


def choose_model(requested: str | None, configured: str, providers: dict[str, str]) -> str:
    """The model to demo: the requested one, the configured one if it has a key, else offline."""
    from gluellm.model_ids import split_model

    if requested:
        return requested
    provider = split_model(configured)[0]
    if provider in providers and has_key(provider):
        return configured
    return OFFLINE_MODEL


async def run_demo(manager: PluginManager, requested_model: str | None) -> int:
    """Run the four demos; return the process exit code."""
    from gluellm.api import GlueLLM, complete, structured_complete
    from gluellm.errors import LLMError
    from gluellm.runtime import Runtime, use_runtime

    runtime = Runtime(manager)
    model = choose_model(
        requested_model, runtime.settings.default_model, runtime.transport_providers()
    )
    if model == OFFLINE_MODEL and "test" not in runtime.transport_providers():
        typer.echo(
            "error: No API key is set and the offline test model is not installed. Set "
            "OPENAI_API_KEY, or run: pip install gluellm-plugins-mock",
            err=True,
        )
        return 1
    offline = " (offline test model: no API key set)" if model == OFFLINE_MODEL else ""
    typer.echo(f"GlueLLM demo on {model}{offline}\n")
    try:
        with use_runtime(runtime):
            result = await complete("What is the capital of France?", model=model)
            typer.echo(f"1. Completion\n   {result.final_response}\n")

            result = await complete(
                "What's the weather in Tokyo?",
                model=model,
                system_prompt="You are a weather assistant. Use get_weather for queries.",
                tools=[get_weather],
            )
            typer.echo(f"2. Tool loop ({result.tool_calls_made} tool call(s))")
            for entry in result.tool_execution_history:
                typer.echo(f"   {entry['tool_name']}({entry['arguments']}) -> {entry['result']}")
            typer.echo(f"   {result.final_response}\n")

            person = await structured_complete(
                "Extract info: John Smith, 35, lives in Seattle",
                response_format=PersonInfo,
                model=model,
            )
            typer.echo(f"3. Structured output\n   {person!r}\n")

            client = GlueLLM(model=model, system_prompt="You are a helpful assistant with memory.")
            await client.complete("My favorite color is blue.")
            answer = await client.complete("What's my favorite color?")
            typer.echo(f"4. Conversation memory\n   {answer.final_response}")
            tokens = answer.tokens_used or {}
            typer.echo(f"   tokens used by the last turn: {tokens.get('total', 'n/a')}")
    except LLMError as error:
        typer.echo(f"error: {error}", err=True)
        return 1
    finally:
        await runtime.aclose()
    return 0
