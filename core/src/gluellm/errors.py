"""GlueLLM's exception hierarchy.

Every provider failure is classified into one of these, so callers handle
`RateLimitError` once instead of once per provider SDK. The provider's own
exception stays reachable as ``__cause__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm.results import ToolExecutionResult


class LLMError(Exception):
    """Base class of every error GlueLLM raises about a model call."""


class TokenLimitError(LLMError):
    """The prompt or the answer exceeds the model's context window. Not retried."""


class RateLimitError(LLMError):
    """The provider answered 429. Retried by the retry plugin.

    Attributes:
        retry_after: Seconds the provider asked us to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class APIConnectionError(LLMError):
    """Network failure, timeout or 5xx answer. Retried by the retry plugin."""


class APITimeoutError(APIConnectionError):
    """A call (or one attempt of it) ran longer than its timeout."""


class StreamCutError(APIConnectionError):
    """A streamed answer ended before the provider said it was complete. Retry-safe.

    Nothing of the cut answer is kept: not in the result, not in a conversation.
    """


class InvalidRequestError(LLMError):
    """The provider rejected the request's parameters (400-class). Not retried."""


class AuthenticationError(LLMError):
    """The provider rejected the credentials (401/403), or none were found. Not retried."""


class ConfigurationError(LLMError):
    """GlueLLM cannot make the call as configured: unknown provider, missing plugin."""


class MaxToolIterationsError(LLMError):
    """The model still asked for tools after ``max_tool_iterations`` rounds.

    Attributes:
        result: Everything the run produced before it stopped (history, tokens).
    """

    def __init__(self, message: str, *, result: ToolExecutionResult) -> None:
        super().__init__(message)
        self.result = result


class StructuredOutputError(LLMError):
    """The model's answer never validated against ``response_format``.

    Attributes:
        raw_output: The last text the model returned.
        validation_error: The last validation error, as text.
        attempts: How many answers were validated.
    """

    def __init__(
        self, message: str, *, raw_output: str | None, validation_error: str, attempts: int
    ) -> None:
        super().__init__(message)
        self.raw_output = raw_output
        self.validation_error = validation_error
        self.attempts = attempts


RETRYABLE_ERRORS: tuple[type[LLMError], ...] = (RateLimitError, APIConnectionError)
"""The error classes a retry plugin should retry; everything else needs the caller."""


def is_retryable(error: BaseException) -> bool:
    """Whether a retry could make ``error`` go away."""
    return isinstance(error, RETRYABLE_ERRORS)


def describe(error: BaseException) -> dict[str, Any]:
    """A small, secret-free summary of an error for records and logs."""
    return {"error_type": type(error).__name__, "error_message": str(error)}


class BudgetExceededError(LLMError):
    """A run stopped because its budget (cost or tokens) was spent. Not retried.

    Attributes:
        result: What the run produced before it stopped (history, tokens, cost), when
            the tool loop stopped it; None when the budget was spent before it began.
        reason: Which limit was reached, and by how much.
    """

    def __init__(
        self, message: str, *, reason: str, result: ToolExecutionResult | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.result = result
