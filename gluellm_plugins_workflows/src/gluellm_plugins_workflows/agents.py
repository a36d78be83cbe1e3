"""`GenericAgent`: an `Agent` with sensible defaults, a starting point for your own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from gluellm.models.agent import Agent
from gluellm.models.prompt import SystemPrompt

__all__ = ["GenericAgent"]

GENERIC_INSTRUCTIONS = (
    "You are a capable, general-purpose assistant. Answer precisely, and use the tools "
    "available to you whenever they help."
)


class GenericAgent(Agent):
    """An agent that can use any tool; every field has a default, so ``GenericAgent()``.

    Override any field (``GenericAgent(tools=[search], model="openai:gpt-4o")``) or
    subclass it and change the defaults.
    """

    name: str = "Generic Agent"
    description: str = "A generic agent that can use any tool"
    system_prompt: SystemPrompt = Field(
        default_factory=lambda: SystemPrompt(content=GENERIC_INSTRUCTIONS)
    )
    tools: list[Callable[..., Any]] = Field(default_factory=list)
