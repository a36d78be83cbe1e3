"""RequestConfig: one request's parameters plus its conversation state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gluellm.models.conversation import Conversation, Role
from gluellm.models.prompt import SystemPrompt


class RequestConfig(BaseModel):
    """Parameters of a request and the conversation it continues."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str
    system_prompt: SystemPrompt
    response_format: type[BaseModel] | None = None
    tools: list[Callable[..., Any]] = Field(default_factory=list)
    conversation: Conversation = Field(default_factory=Conversation)

    def add_message_to_conversation(self, role: Role, content: str) -> None:
        """Append a message to the conversation."""
        self.conversation.add_message(role, content)

    def get_conversation(self) -> list[dict[str, Any]]:
        """The system message (with tools) followed by the conversation, in wire form."""
        system = {"role": "system", "content": self.system_prompt.to_formatted_string(self.tools)}
        return [system, *self.conversation.messages_dict]
