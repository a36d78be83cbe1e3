"""The spec's batch values: requests, configuration, per-request results, the response.

`BatchRequest` and `EmbeddingBatchRequest` describe one unit of work; `BatchConfig`
how to run many; `BatchResult` what came of one; `BatchResponse` the whole batch.
`BatchTotals` adds results up as they arrive, so the streaming runner, the progress
display and `BatchResponse` share one definition of "how far are we".
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from gluellm.models.batch import APIKeyConfig

ResultStatus: TypeAlias = Literal["ok", "error", "cancelled"]
"""How a request ended: answered, failed, or cancelled (FAIL_FAST stopped the batch)."""


def _new_id() -> str:
    return f"req-{uuid.uuid4().hex[:12]}"


class BatchErrorStrategy(enum.StrEnum):
    """What a batch does when a request fails (after `BatchConfig.retry_failed`).

    Attributes:
        FAIL_FAST: Stop launching requests, cancel those in flight, and return the
            response with the failure and the cancelled requests in it.
        CONTINUE: Run every request; failures are results like any other.
        COLLECT: Run every request, then raise `BatchError` carrying every failure and
            the whole response.
    """

    FAIL_FAST = "fail_fast"
    CONTINUE = "continue"
    COLLECT = "collect"


class BatchRequest(BaseModel):
    """One completion of a batch.

    Args:
        id: Your ID for the request; results carry it. A new one when not given.
        user_message: The message to answer.
        model: ``provider:model`` for this request; else `BatchConfig.model`, else
            ``GLUELLM_DEFAULT_MODEL``.
        system_prompt: Instructions for this request; else the configured default.
        tools: Functions (or `Tool` objects, or plugin tool names) the model may call.
        execute_tools: Run the tools the model asks for; with False the calls come
            back in `BatchResult.pending_tool_calls`.
        max_tool_iterations: Rounds of tool calls allowed.
        timeout: Seconds one model request (one attempt) of this request may take.
        metadata: Your data; copied onto the result and onto the request's run.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str = Field(default_factory=_new_id)
    user_message: str
    model: str | None = None
    system_prompt: str | None = None
    tools: list[Callable[..., Any] | Any] | None = None
    execute_tools: bool = True
    max_tool_iterations: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(default=None, gt=0)
    metadata: dict[str, Any] = Field(default_factory=dict)


class EmbeddingBatchRequest(BaseModel):
    """One embedding request of a batch: runs through the same runner as completions.

    Args:
        id: Your ID for the request; a new one when not given.
        input: A text or texts; long lists are split per provider request by ``embed``.
        model: Embedding model; else ``GLUELLM_DEFAULT_EMBEDDING_MODEL``.
        timeout: Seconds one provider request may take.
        metadata: Your data; copied onto the result.
    """

    id: str = Field(default_factory=_new_id)
    input: str | list[str]
    model: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    metadata: dict[str, Any] = Field(default_factory=dict)


AnyBatchRequest: TypeAlias = BatchRequest | EmbeddingBatchRequest
"""What a batch may contain."""


class BatchConfig(BaseModel):
    """How to run a batch.

    Args:
        max_concurrent: Requests in flight at once (the runner's window).
        error_strategy: What a failure does to the batch (see `BatchErrorStrategy`).
        retry_failed: Run each failed request once more before counting it as failed.
        api_keys: A key pool: each request's attempts use the rate-limit plugin's
            per-key limits, cooldowns and removals (``gluellm-plugins-aiolimiter``).
        model: Model for requests that name none.
        show_progress: Log a progress line now and then (the CLI draws a bar instead).
    """

    max_concurrent: int = Field(default=5, ge=1)
    error_strategy: BatchErrorStrategy = BatchErrorStrategy.CONTINUE
    retry_failed: bool = False
    api_keys: list[APIKeyConfig] | None = None
    model: str | None = None
    show_progress: bool = False


class BatchResult(BaseModel):
    """What came of one request.

    Attributes:
        id: The request's ID.
        success: Whether it was answered.
        response: The final answer text (None for failures and embeddings).
        error: The error message, if it failed or was cancelled.
        error_type: The error's class name (``RateLimitError``, ``CancelledError`` ...).
        status: ``ok``, ``error`` or ``cancelled``.
        metadata: The request's metadata.
        elapsed_time: Seconds from launch to end (all attempts).
        tokens_used: ``prompt``, ``completion``, ``total`` when reported.
        estimated_cost_usd: The request's cost, when the model's price is known.
        tool_calls_made: Tool calls executed.
        tool_execution_history: One dict per executed tool call.
        pending_tool_calls: Calls the model asked for with ``execute_tools=False``.
        model: The model that answered.
        attempts: 1, or 2 when `BatchConfig.retry_failed` ran it again.
        index: Position of the request in the input (streaming results arrive out of order).
        embeddings: The vectors, for embedding requests.
        result: The full `ToolExecutionResult` / `EmbeddingResult` (not serialized).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    success: bool
    response: str | None = None
    error: str | None = None
    error_type: str | None = None
    status: ResultStatus = "ok"
    metadata: dict[str, Any] = Field(default_factory=dict)
    elapsed_time: float = 0.0
    tokens_used: dict[str, int] | None = None
    estimated_cost_usd: float | None = None
    tool_calls_made: int = 0
    tool_execution_history: list[dict[str, Any]] = Field(default_factory=list)
    pending_tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    model: str | None = None
    attempts: int = 1
    index: int | None = None
    embeddings: list[list[float]] | None = None
    result: Any = Field(default=None, exclude=True, repr=False)

    @property
    def retried(self) -> bool:
        """Whether the request ran more than once (`BatchConfig.retry_failed`)."""
        return self.attempts > 1


class BatchTotals:
    """Running totals over results: counts, tokens, cost and elapsed time."""

    __slots__ = ("cancelled", "cost", "failed", "successful", "tokens")

    def __init__(self) -> None:
        self.successful = 0
        self.failed = 0
        self.cancelled = 0
        self.tokens: dict[str, int] | None = None
        self.cost: float | None = None

    @property
    def done(self) -> int:
        """Results counted so far."""
        return self.successful + self.failed + self.cancelled

    def add(self, result: BatchResult) -> None:
        """Count one result."""
        if result.success:
            self.successful += 1
        elif result.status == "cancelled":
            self.cancelled += 1
        else:
            self.failed += 1
        if result.tokens_used:
            tokens = self.tokens if self.tokens is not None else {}
            for name, value in result.tokens_used.items():
                tokens[name] = tokens.get(name, 0) + value
            self.tokens = tokens
        if result.estimated_cost_usd is not None:
            self.cost = (self.cost or 0.0) + result.estimated_cost_usd


class BatchResponse(BaseModel):
    """A whole batch: every result and the totals.

    Attributes:
        results: One result per request, in input order.
        total_requests: Requests in the batch.
        successful_requests: Requests answered.
        failed_requests: Requests that failed (after retry, if configured).
        cancelled_requests: Requests cancelled or never started because FAIL_FAST
            stopped the batch.
        total_elapsed_time: Seconds the batch took.
        total_tokens_used: Token counts summed over the results (None: none reported).
        estimated_cost_usd: Cost summed over the results whose price is known.
        batch_id: The batch's ID (its run's name; records and spans carry it).
    """

    results: list[BatchResult]
    total_requests: int
    successful_requests: int
    failed_requests: int
    cancelled_requests: int = 0
    total_elapsed_time: float
    total_tokens_used: dict[str, int] | None = None
    estimated_cost_usd: float | None = None
    batch_id: str | None = None

    @property
    def failures(self) -> list[BatchResult]:
        """The failed results (cancelled ones excluded)."""
        return [r for r in self.results if r.status == "error"]

    @classmethod
    def from_results(
        cls, results: list[BatchResult], elapsed: float, batch_id: str | None = None
    ) -> BatchResponse:
        """Build the response (and its totals) from results in input order."""
        totals = BatchTotals()
        for result in results:
            totals.add(result)
        return cls(
            results=results,
            total_requests=len(results),
            successful_requests=totals.successful,
            failed_requests=totals.failed,
            cancelled_requests=totals.cancelled,
            total_elapsed_time=elapsed,
            total_tokens_used=totals.tokens,
            estimated_cost_usd=totals.cost,
            batch_id=batch_id,
        )


class BatchError(Exception):
    """Raised by COLLECT batches with failures: every failure, and the whole response.

    Attributes:
        errors: The failed results.
        response: The batch's response, successes included.
    """

    def __init__(self, response: BatchResponse) -> None:
        self.response = response
        self.errors = response.failures
        shown = "; ".join(f"{r.id}: {r.error_type}: {r.error}" for r in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(
            f"{len(self.errors)} of {response.total_requests} batch requests failed: "
            f"{shown}{more}. Every failure is in .errors, the whole response in .response."
        )
