"""Agent: a reusable, named configuration of a model, prompt and tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gluellm.models.prompt import SystemPrompt


class Agent(BaseModel):
    """A configured LLM with a purpose: used by executors and workflows."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    description: str
    system_prompt: SystemPrompt
    tools: list[Callable[..., Any]] = Field(default_factory=list)
    max_tool_iterations: int = Field(default=10, ge=1)
    model: str | None = None
