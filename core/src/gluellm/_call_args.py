"""What callers pass, checked and shaped: model parameters, tools, prompts, options.

Used by the `GlueLLM` client and the one-off API functions; everything here runs on
every call (or is cached so that it need not), and raises ``ValueError`` or
``TypeError`` with what to do before anything is sent.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from gluellm.params import ModelParams

if TYPE_CHECKING:
    from gluellm.costs import Budget
    from gluellm.tools import Tool


class CallParams(TypedDict, total=False):
    """Model parameters every API function and `GlueLLM` accepts (see `ModelParams`).

    ``extra_params`` passes provider-specific parameters through as they are. On
    `GlueLLM` they are the client's defaults; a call's values override them.
    """

    temperature: float
    max_tokens: int
    top_p: float
    stop: str | Sequence[str]
    seed: int
    tool_choice: str
    extra_params: Mapping[str, Any]


def model_params(given: CallParams) -> ModelParams | None:
    """``**params`` as `ModelParams`, or None when none were given."""
    if not given:
        return None
    values: dict[str, Any] = dict(given)
    extra = values.pop("extra_params", None) or {}
    return ModelParams(extra=dict(extra), **values)


# Building a tool's schema costs milliseconds; do it once per function. The Tool holds
# its function, so the cache must hold the Tool weakly: a strong value would keep the
# weak key (and everything a closure captured) alive forever.
tool_cache: weakref.WeakKeyDictionary[Callable[..., Any], weakref.ref[Tool]] = (
    weakref.WeakKeyDictionary()
)


def tool_for(function: Callable[..., Any]) -> Tool:
    """The `Tool` describing ``function``, built once per function."""
    from gluellm.tools import Tool

    cached = tool_cache.get(function)
    tool = cached() if cached is not None else None
    if tool is None:
        tool = Tool.from_function(function)
        tool_cache[function] = weakref.ref(tool)
    return tool


@lru_cache(maxsize=128)
def system_text(content: str, tools: tuple[Tool, ...]) -> str:
    """The system prompt rendered with the tools it may use (cached: same prompt, same text)."""
    from gluellm.models.prompt import SystemPrompt

    return SystemPrompt(content=content).to_formatted_string(tools)


def check_timeout(name: str, value: float | None) -> None:
    """Refuse a timeout that is not a positive number of seconds."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}.")
    if value <= 0:
        raise ValueError(
            f"{name} must be more than 0 seconds, got {value!r}. Leave it unset for the "
            "default (GLUELLM_DEFAULT_REQUEST_TIMEOUT)."
        )


def check_model(model: object) -> None:
    """Refuse a model that is not a non-empty string."""
    if model is None:
        return
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model must be a non-empty 'provider:model' string such as "
            f"'openai:gpt-4o-mini', got {model!r}."
        )


def check_user_message(user_message: object) -> None:
    """Refuse an empty or non-string user message."""
    if not isinstance(user_message, str) or not user_message.strip():
        raise ValueError(
            f"user_message must be a non-empty string, got {user_message!r}. "
            "Pass the text you want the model to answer."
        )


def check_response_format(response_format: object) -> None:
    """Refuse a response format that is not a pydantic model class."""
    from pydantic import BaseModel

    if not (isinstance(response_format, type) and issubclass(response_format, BaseModel)):
        raise TypeError(
            f"response_format must be a pydantic model class (a subclass of "
            f"pydantic.BaseModel), got {response_format!r}. Wrap other types in one, e.g. "
            "class Answer(BaseModel): value: list[int]."
        )


class CallOptions(NamedTuple):
    """What one call of a `GlueLLM` method overrides (a tuple: built on every call)."""

    model: str | None = None
    correlation_id: str | None = None
    timeout: float | None = None
    params: ModelParams | None = None
    budget: Budget | None = None
