"""Conversation history: messages with roles, in order, with a stable ID."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


def _new_id() -> str:
    return str(uuid.uuid4())


class Role(StrEnum):
    """Who wrote a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Message(BaseModel):
    """One message of a conversation.

    ``tool_calls`` (on assistant messages) and ``tool_call_id`` (on tool messages) carry
    the tool loop's wire data so a remembered conversation can be sent again as is.
    """

    id: str = Field(default_factory=_new_id)
    role: Role
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI wire form of this message."""
        data: dict[str, Any] = {"role": self.role.value, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """A message from its OpenAI wire form (trusted: the tool loop built it)."""
        return cls.model_construct(
            role=Role(data["role"]),
            content=data.get("content"),
            tool_calls=data.get("tool_calls"),
            tool_call_id=data.get("tool_call_id"),
        )


class Conversation(BaseModel):
    """An ordered list of messages with an ID."""

    id: str = Field(default_factory=_new_id)
    messages: list[Message] = Field(default_factory=list)

    def add_message(self, role: Role, content: str | None, **fields: Any) -> Message:
        """Append a message and return it."""
        message = Message(role=role, content=content, **fields)
        self.messages.append(message)
        return message

    def extend_wire(self, messages: list[dict[str, Any]]) -> None:
        """Append messages given in OpenAI wire form."""
        self.messages.extend(Message.from_dict(m) for m in messages)

    @property
    def messages_dict(self) -> list[dict[str, Any]]:
        """The messages in OpenAI wire form, ready for an API call."""
        return [message.to_dict() for message in self.messages]

    def clear(self) -> None:
        """Forget every message (the ID stays)."""
        self.messages.clear()
