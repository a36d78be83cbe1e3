"""The spec's data models: Conversation, Message, Role, SystemPrompt, RequestConfig, Agent."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from gluellm.models.agent import Agent
from gluellm.models.config import RequestConfig
from gluellm.models.conversation import Conversation, Message, Role
from gluellm.models.prompt import SystemPrompt


def get_weather(location: str) -> str:
    """Get weather for a location."""
    return f"Weather in {location}: 22°C"


def test_conversation_as_the_spec_shows():
    conv = Conversation()
    conv.add_message(Role.USER, "What is Python?")
    conv.add_message(Role.ASSISTANT, "Python is a programming language.")
    assert [f"{m.role.value}: {m.content}" for m in conv.messages] == [
        "user: What is Python?",
        "assistant: Python is a programming language.",
    ]
    assert conv.messages_dict == [
        {"role": "user", "content": "What is Python?"},
        {"role": "assistant", "content": "Python is a programming language."},
    ]
    assert uuid.UUID(conv.id)
    assert Conversation().id != conv.id


def test_direct_message_creation():
    msg = Message(id=str(uuid.uuid4()), role=Role.USER, content="Hello!")
    assert msg.to_dict() == {"role": "user", "content": "Hello!"}
    assert {r.value for r in Role} == {"system", "user", "assistant", "tool"}


def test_system_prompt_wraps_instructions_and_tools_in_xml():
    text = SystemPrompt(content="You are a helpful assistant.").to_formatted_string(
        tools=[get_weather]
    )
    assert text.startswith("<system_prompt>")
    assert (
        "<system_instructions>\n        You are a helpful assistant.\n    </system_instructions>"
        in text
    )
    assert "<name>get_weather</name>" in text
    assert "<description>Get weather for a location.</description>" in text
    assert "<tools>" not in SystemPrompt(content="x").to_formatted_string()


def test_request_config_builds_the_conversation_with_the_system_message():
    class OutputFormat(BaseModel):
        answer: str

    config = RequestConfig(
        model="openai:gpt-4o-mini",
        system_prompt=SystemPrompt(content="You are helpful."),
        response_format=OutputFormat,
        tools=[get_weather],
    )
    config.add_message_to_conversation(Role.USER, "What's the weather?")
    config.add_message_to_conversation(Role.ASSISTANT, "Let me check...")
    messages = config.get_conversation()
    assert messages[0]["role"] == "system"
    assert "<name>get_weather</name>" in messages[0]["content"]
    assert messages[1:] == [
        {"role": "user", "content": "What's the weather?"},
        {"role": "assistant", "content": "Let me check..."},
    ]


def test_agent_model():
    agent = Agent(
        name="Research Assistant",
        description="Helps with research tasks",
        system_prompt=SystemPrompt(content="You are a research assistant."),
        tools=[get_weather],
        max_tool_iterations=10,
        model="openai:gpt-4o-mini",
    )
    assert agent.name == "Research Assistant"
    assert agent.tools == [get_weather]
    assert Agent(name="a", description="b", system_prompt=SystemPrompt(content="c")).model is None
