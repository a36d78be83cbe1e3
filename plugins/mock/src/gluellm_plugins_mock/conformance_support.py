"""Helpers of the transport conformance suite (`gluellm_plugins_mock.conformance`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from gluellm.call import Message, ModelCall, ModelResponse, StreamDelta, Transport
from gluellm_plugins_mock.fake_server.steps import CONTEXT_SERVERS

if TYPE_CHECKING:
    from gluellm.runtime import Runtime
    from gluellm_plugins_mock.fake_server import FakeProviderServer

__all__ = [
    "API_KEY",
    "CONTEXT_SERVERS",
    "WEATHER_TOOL",
    "City",
    "Conformance",
    "TransportFactory",
    "call_for",
    "end_to_end_runtime",
    "get_weather",
    "read_all",
    "wait_for",
]

API_KEY = "sk-conformance-0123456789"
"""The key every call of the suite carries; it must never appear in an error."""

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a place.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
"""A tool definition in OpenAI's function format, as core sends them."""

TransportFactory = Callable[[], Transport]
"""Builds a fresh transport for one test."""

WAIT_LIMIT_S = 10.0
"""Longest `wait_for` waits for something the server must see (a bound, not a timing)."""


class City(BaseModel):
    """The structured output the suite asks for."""

    name: str
    population: int


def get_weather(location: str) -> str:
    """Current weather for a place.

    Args:
        location: The city.
    """
    return f"Sunny, 22 C in {location}"


def call_for(
    server: FakeProviderServer,
    provider: str,
    *,
    model_name: str = "gpt-4o-mini",
    messages: Sequence[Message] | None = None,
    **fields: Any,
) -> ModelCall:
    """A call to the fake server's OpenAI API: its base URL, the suite's key."""
    return ModelCall(
        model=f"{provider}:{model_name}",
        provider=provider,
        model_name=model_name,
        messages=list(messages or [{"role": "user", "content": "Say something."}]),
        base_url=server.openai_base_url,
        api_key=API_KEY,
        **fields,
    )


async def read_all(response: ModelResponse) -> list[StreamDelta]:
    """Every delta of a streamed response (nothing for a plain one)."""
    if response.stream is None:
        return []
    return [delta async for delta in response.stream]


async def wait_for(condition: Callable[[], bool], limit_s: float = WAIT_LIMIT_S) -> None:
    """Wait until ``condition()`` holds (the server runs in another thread).

    Raises:
        AssertionError: It did not hold within ``limit_s``.
    """
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {limit_s:g} s: {condition}")
        await asyncio.sleep(0.01)


def end_to_end_runtime() -> Runtime:
    """A runtime with no plugins at all (no retries, no limits): the transport alone."""
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Runtime(create_plugin_manager(load_entrypoints=False), settings=settings)


class Conformance:
    """What one conformance test works with: the transport factory, server and provider.

    Args:
        factory: Builds a fresh transport.
        server: The fake provider server, reset for the test.
        provider: The provider name the calls carry.
    """

    def __init__(
        self, factory: TransportFactory, server: FakeProviderServer, provider: str
    ) -> None:
        self.factory = factory
        self.server = server
        self.provider = provider

    def call(self, **fields: Any) -> ModelCall:
        """A call to the fake server (see `call_for`)."""
        return call_for(self.server, self.provider, **fields)

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[Transport]:
        """A fresh transport, closed at the end of the block however it ends."""
        transport = self.factory()
        try:
            yield transport
        finally:
            await transport.aclose()
