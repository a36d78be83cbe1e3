"""Executors and GenericAgent run through the normal API."""

from __future__ import annotations

from pydantic import BaseModel

from gluellm.models.agent import Agent
from gluellm.models.prompt import SystemPrompt
from gluellm_plugins_workflows.agents import GenericAgent
from gluellm_plugins_workflows.executors import (
    AgentExecutor,
    Executor,
    SimpleExecutor,
    StructuredExecutor,
)

from .conftest import MODEL, make_agent, text


class Answer(BaseModel):
    value: int


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


async def test_simple_executor_sends_model_prompt_tools_and_params(model):
    m = model(default=text("100"))
    executor = SimpleExecutor(
        model="routed:other",
        system_prompt="[agent:Calc] You are helpful.",
        tools=[add],
        max_tool_iterations=5,
        temperature=0.2,
    )
    assert await executor.execute("What is 25 * 4?") == "100"
    (call,) = m.transport.calls
    assert call.model == "routed:other"
    assert "You are helpful." in call.messages[0]["content"]
    assert [t["function"]["name"] for t in call.tools] == ["add"]
    assert call.options["temperature"] == 0.2
    assert m.log[0][0] == "Calc"
    assert isinstance(executor, Executor)
    assert isinstance(executor, StructuredExecutor)


async def test_agent_executor_uses_the_agents_configuration(model):
    m = model(Helper=lambda p, fmt: Answer(value=7) if fmt is Answer else "hi")
    agent = Agent(
        name="Helper",
        description="Helpful agent",
        system_prompt=SystemPrompt(content="[agent:Helper] You are helpful."),
        tools=[add],
    )
    executor = AgentExecutor(agent=agent)
    assert executor.name == "Helper"
    assert await executor.execute("Hello!") == "hi"
    answer = await executor.execute_structured("Seven?", Answer, use_tools=False)
    assert answer == Answer(value=7)
    first, second = m.transport.calls
    assert first.model == MODEL  # the agent has no model: the default one
    assert first.tools
    assert not second.tools
    assert second.response_format is Answer


async def test_agent_model_override(model):
    m = model(default=text("ok"))
    await make_agent("X", model="routed:special").execute("hi")
    assert m.transport.calls[0].model == "routed:special"


def test_generic_agent_defaults_and_overrides():
    agent = GenericAgent()
    assert agent.name == "Generic Agent"
    assert agent.description == "A generic agent that can use any tool"
    assert agent.tools == []
    assert agent.system_prompt.content
    custom = GenericAgent(name="Mine", tools=[add], model="openai:gpt-4o")
    assert custom.name == "Mine"
    assert custom.tools == [add]
    assert AgentExecutor(custom).name == "Mine"
    assert isinstance(agent, Agent)
