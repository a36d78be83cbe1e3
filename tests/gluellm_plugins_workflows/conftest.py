"""Fixtures: a fresh runtime per test and a model that routes calls by agent.

`AgentModel` answers every model call from a handler chosen by the ``[agent:NAME]``
marker in the call's system prompt, and logs ``(agent, prompt, response_format)`` in
call order, so tests can pin which agent was asked what, how often, and in which order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from gluellm import hookimpl
from gluellm.call import ModelCall, ModelResponse
from gluellm.config import Settings
from gluellm.models.agent import Agent
from gluellm.models.prompt import SystemPrompt
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import FunctionTransport, reply
from gluellm_plugins_workflows.executors import AgentExecutor

_MARKER = re.compile(r"\[agent:([^\]]+)\]")

Handler = Callable[[str, Any], "str | BaseModel"]
"""``handler(prompt, response_format) -> text or a model instance``."""

USAGE = (10, 5)
"""Tokens every scripted answer reports: 15 per call."""


def make_agent(name: str, tools: list[Any] | None = None, **kw: Any) -> AgentExecutor:
    """An executor whose calls `AgentModel` recognizes as ``name``."""
    return AgentExecutor(
        Agent(
            name=name,
            description=f"{name} agent",
            system_prompt=SystemPrompt(content=f"[agent:{name}] You play {name}."),
            tools=tools or [],
            **kw,
        )
    )


class AgentModel:
    """Routes each call to its agent's handler and logs it."""

    def __init__(self, **handlers: Handler) -> None:
        self.handlers = handlers
        self.log: list[tuple[str, str, Any]] = []
        self.transport = FunctionTransport(self)

    def __call__(self, call: ModelCall) -> ModelResponse:
        system = str(call.messages[0]["content"])
        found = _MARKER.search(system)
        agent = found.group(1) if found else "?"
        prompt = str(next(m["content"] for m in reversed(call.messages) if m["role"] == "user"))
        self.log.append((agent, prompt, call.response_format))
        handler = self.handlers.get(agent) or self.handlers.get("default")
        if handler is None:
            raise AssertionError(f"no handler for agent {agent!r}")
        answer = handler(prompt, call.response_format)
        if isinstance(answer, BaseModel):
            answer = answer.model_dump_json()
        return reply(answer, usage=USAGE)

    def agents(self) -> list[str]:
        """The agents called, in order."""
        return [agent for agent, _, _ in self.log]

    def prompts(self, agent: str) -> list[str]:
        """What ``agent`` was asked, in order."""
        return [prompt for name, prompt, _ in self.log if name == agent]


MODEL = "routed:test-model"
"""The default model of the test runtime; served by the current `AgentModel`."""


class RoutedProvider:
    """Serves provider ``routed`` with the test's current `AgentModel`."""

    def __init__(self) -> None:
        self.current: AgentModel | None = None

    @hookimpl
    def register_transports(self, register: Callable[..., None]) -> None:
        def transport() -> FunctionTransport:
            if self.current is None:
                raise AssertionError("call the `model` fixture before running a workflow")
            return self.current.transport

        register("routed", transport)


@pytest.fixture
def plugin_manager() -> PluginManager:
    return create_plugin_manager(load_entrypoints=False)


@pytest.fixture
def provider(plugin_manager: PluginManager) -> RoutedProvider:
    routed = RoutedProvider()
    plugin_manager.register(routed, name="routed-provider")
    return routed


@pytest.fixture
def runtime(plugin_manager: PluginManager, provider: RoutedProvider) -> Iterator[Runtime]:
    settings = Settings(_env_file=None, default_model=MODEL)  # type: ignore[call-arg]
    rt = Runtime(plugin_manager, settings=settings)
    with use_runtime(rt):
        yield rt


@pytest.fixture
def model(runtime: Runtime, provider: RoutedProvider) -> Callable[..., AgentModel]:
    """``model(Agent=handler, ...)``: answer this test's calls with an `AgentModel`."""

    def make(**handlers: Handler) -> AgentModel:
        provider.current = AgentModel(**handlers)
        return provider.current

    return make


def text(value: str) -> Handler:
    """A handler that always answers ``value``."""
    return lambda prompt, fmt: value


def counter(prefix: str) -> Handler:
    """A handler answering ``prefix 1``, ``prefix 2`` ... for text calls."""
    count = 0

    def answer(prompt: str, fmt: Any) -> str:
        nonlocal count
        count += 1
        return f"{prefix} {count}"

    return answer
