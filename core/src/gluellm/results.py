"""What a completion returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ToolExecutionResult(BaseModel):
    """The outcome of one ``complete()`` run, tool loop included.

    Attributes:
        final_response: The model's final text.
        tool_calls_made: How many tool calls were executed (failed ones included).
        tool_execution_history: One dict per tool call: ``tool_call_id``, ``tool_name``,
            ``arguments``, ``result``, ``error``.
        raw_response: The transport's raw response of the last model turn.
        tokens_used: Summed usage over all turns (``prompt``, ``completion``, ``total``),
            or None when the provider reported none.
        structured_output: The validated ``response_format`` instance, if one was asked for.
        pending_tool_calls: With ``execute_tools=False``: the tool calls the model asked
            for, not run (``id``, ``tool_name``, ``arguments``).
        finish_reason: Why the last model turn stopped, as the provider said: ``stop``,
            or ``length`` when the answer was cut off at the token limit.
        estimated_cost_usd: Summed cost of the run's model turns in US dollars, when
            their prices are known (see `gluellm.costs`); None when none was.
        model: The model string the run used.
        correlation_id: The ID tying this run's logs, retries and records together.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    final_response: str
    tool_calls_made: int = 0
    tool_execution_history: list[dict[str, Any]] = Field(default_factory=list)
    raw_response: Any = Field(default=None, repr=False)
    tokens_used: dict[str, int] | None = None
    structured_output: Any = None
    pending_tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    finish_reason: str | None = None
    estimated_cost_usd: float | None = None
    model: str | None = None
    correlation_id: str | None = None


RUN_METADATA_FIELDS = (
    "tool_calls_made",
    "tool_execution_history",
    "tokens_used",
    "estimated_cost_usd",
    "raw_response",
    "correlation_id",
)
"""Attributes `attach_run_metadata` puts on structured outputs."""


def attach_run_metadata(instance: BaseModel, result: ToolExecutionResult) -> None:
    """Make the run's metadata readable on a structured output (``report.tool_calls_made``).

    The values live in the instance's ``__dict__`` only: they are not fields, so they
    never appear in ``model_dump()``, and a field of the same name is left alone.
    """
    fields = type(instance).model_fields
    for name in RUN_METADATA_FIELDS:
        if name not in fields:
            object.__setattr__(instance, name, getattr(result, name))
