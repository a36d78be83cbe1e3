"""Model parameters: temperature, max_tokens, top_p, stop, seed, tool_choice, extras.

Every API function and `GlueLLM` accepts these; a client's values are defaults that a
call's values override. They are checked before anything is sent, then forwarded in
OpenAI wire form in ``ModelCall.options``; transports translate them for their provider
(any-llm does so for Anthropic, Gemini ...). ``extra`` passes provider-specific
parameters through untouched (``{"logit_bias": {...}}``, ``{"reasoning_effort": "low"}``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs

ToolChoice: TypeAlias = str
"""``"auto"``, ``"none"``, ``"required"``, or the name of one of the run's tools."""

_CHOICE_WORDS = frozenset({"auto", "none", "required"})
_NAMED = ("temperature", "max_tokens", "top_p", "stop", "seed", "tool_choice")


def _check_range(name: str, value: float | None, low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}.")


@attrs.frozen(kw_only=True)
class ModelParams:
    """Sampling and tool-choice parameters for model calls; None means "not set".

    Attributes:
        temperature: Randomness, 0 to 2.
        max_tokens: Most tokens the model may write per turn (at least 1).
        top_p: Nucleus sampling, 0 to 1.
        stop: A stop sequence, or up to four.
        seed: Ask for reproducible sampling, where the provider supports it.
        tool_choice: ``auto``, ``none``, ``required``, or a tool's name to force it.
        extra: Provider-specific parameters, sent as they are.

    Raises:
        ValueError: A value is out of range or of the wrong type; the message says which.
    """

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: str | Sequence[str] | None = None
    seed: int | None = None
    tool_choice: ToolChoice | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        _check_range("temperature", self.temperature, 0, 2)
        _check_range("top_p", self.top_p, 0, 1)
        if self.max_tokens is not None and (
            isinstance(self.max_tokens, bool)
            or not isinstance(self.max_tokens, int)
            or self.max_tokens < 1
        ):
            raise ValueError(
                f"max_tokens must be a whole number of at least 1, got {self.max_tokens!r}."
            )
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}.")
        if self.stop is not None:
            stops = [self.stop] if isinstance(self.stop, str) else list(self.stop)
            if not stops or len(stops) > 4 or not all(isinstance(s, str) and s for s in stops):
                raise ValueError(
                    "stop must be a non-empty string or a list of 1 to 4 of them, "
                    f"got {self.stop!r}."
                )
        if self.tool_choice is not None and (
            not isinstance(self.tool_choice, str) or not self.tool_choice
        ):
            raise ValueError(
                "tool_choice must be 'auto', 'none', 'required' or the name of a tool, "
                f"got {self.tool_choice!r}."
            )
        clash = sorted(set(self.extra) & set(_NAMED))
        if clash:
            raise ValueError(
                f"extra= repeats {', '.join(clash)}: pass those as their own arguments."
            )

    def merged(self, override: ModelParams | None) -> ModelParams:
        """These parameters with every value ``override`` sets taking precedence."""
        if override is None:
            return self
        changes: dict[str, Any] = {
            name: getattr(override, name) for name in _NAMED if getattr(override, name) is not None
        }
        if override.extra:
            changes["extra"] = {**self.extra, **override.extra}
        return attrs.evolve(self, **changes) if changes else self

    def check_tools(self, tool_names: Sequence[str]) -> None:
        """Check that a named ``tool_choice`` names one of the run's tools.

        Raises:
            ValueError: It names no tool of the run, or tools are required but none given.
        """
        choice = self.tool_choice
        if choice is None or choice in ("auto", "none"):
            return
        if not tool_names:
            raise ValueError(f"tool_choice={choice!r} needs tools, but the call has none.")
        if choice not in _CHOICE_WORDS and choice not in tool_names:
            raise ValueError(
                f"tool_choice={choice!r} names no tool of this call. Tools: "
                f"{', '.join(tool_names)}; or use 'auto', 'none' or 'required'."
            )

    def as_options(self) -> Mapping[str, Any]:
        """The parameters in OpenAI wire form, for ``ModelCall.options`` (read-only)."""
        return self._wire_options

    @functools.cached_property
    def _wire_options(self) -> Mapping[str, Any]:
        # Built once per instance: a client's parameters serve every one of its calls.
        options: dict[str, Any] = dict(self.extra)
        for name in ("temperature", "max_tokens", "top_p", "seed"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        if self.stop is not None:
            options["stop"] = self.stop if isinstance(self.stop, str) else list(self.stop)
        if self.tool_choice is not None:
            if self.tool_choice in _CHOICE_WORDS:
                options["tool_choice"] = self.tool_choice
            else:
                options["tool_choice"] = {
                    "type": "function",
                    "function": {"name": self.tool_choice},
                }
        return MappingProxyType(options)


NO_PARAMS = ModelParams()
"""No parameter set: the provider's defaults apply."""
