"""`EvalRecord`: what an eval store receives for every run.

Defined in core so the eval plugin, third-party stores and users share one schema.
The eval plugin (``gluellm-plugins-eval``) fills records from runs and writes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class EvalRecord(BaseModel):
    """One run, recorded for evaluation: request, response, tools, metrics, outcome.

    The fields up to ``error_message`` are the spec's; the rest are GlueLLM's additions.

    Attributes:
        id: Unique ID of the record (a UUID).
        correlation_id: The run's correlation ID (ties logs, retries and spans).
        timestamp: When the run started (UTC).
        user_message: The user's input message.
        system_prompt: The system prompt used.
        model: Model identifier (``openai:gpt-4o-mini``).
        messages_snapshot: The conversation as sent on the first turn.
        final_response: The final text answer.
        structured_output: The structured output, serialised, when one was asked for.
        raw_response: The last raw provider response, serialised, secrets removed.
        tool_calls_made: Number of tool calls executed.
        tool_execution_history: One entry per tool call.
        tools_available: Names of the tools the model could call.
        latency_ms: Total run latency in milliseconds.
        tokens_used: Summed usage (``prompt``, ``completion``, ``total``).
        estimated_cost_usd: Estimated cost in US dollars, when prices are known.
        success: Whether the run succeeded.
        error_type: The error's class name, when it failed.
        error_message: The error's message, when it failed.
        operation: The run's kind (``complete``, ``stream_complete``, ``embed``,
            ``workflow`` ...).
        run_id: The run's own ID.
        parent_run_id: The enclosing run's ID (a workflow step's workflow), if any.
        root_run_id: The outermost enclosing run's ID, if any.
        name: The run's name (a workflow's pattern, a step's agent ...), if any.
        status: ``ok``, ``error``, ``cancelled`` or ``closed`` (a stream abandoned early).
        retry_attempts: Retries made across the run's model calls.
        model_calls: Model requests made by the run.
        metadata: Data the caller or a workflow attached to the run.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str = Field(default_factory=_new_id)
    correlation_id: str | None = None
    timestamp: datetime = Field(default_factory=_now)
    user_message: str | None = None
    system_prompt: str | None = None
    model: str | None = None
    messages_snapshot: list[dict[str, Any]] = Field(default_factory=list)
    final_response: str | None = None
    structured_output: Any = None
    raw_response: Any = None
    tool_calls_made: int = 0
    tool_execution_history: list[dict[str, Any]] = Field(default_factory=list)
    tools_available: list[str] = Field(default_factory=list)
    latency_ms: float = 0.0
    tokens_used: dict[str, int] | None = None
    estimated_cost_usd: float | None = None
    success: bool = True
    error_type: str | None = None
    error_message: str | None = None
    operation: str = "complete"
    run_id: str | None = None
    parent_run_id: str | None = None
    root_run_id: str | None = None
    name: str | None = None
    status: str = "ok"
    retry_attempts: int = 0
    model_calls: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    def model_dump_dict(self) -> dict[str, Any]:
        """The record as JSON-compatible data (timestamps as ISO strings)."""
        return self.model_dump(mode="json")
