"""Embeddings: `EmbeddingResult` and the run that produces it.

An embedding run goes through the same pipeline as a completion (run middleware,
call middleware, retries, rate limits, timeouts, cost). Inputs longer than the
transport's per-request limit are split into several requests, sent concurrently,
and the vectors put back in input order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs
from pydantic import BaseModel, Field

from gluellm.call import EMBEDDING_BATCH_LIMIT, ModelCall, ModelResponse, Usage
from gluellm.errors import APIConnectionError
from gluellm.pipeline import run_call
from gluellm.runs import RunRequest
from gluellm.runtime import Runtime


class EmbeddingResult(BaseModel):
    """Embedding vectors for one or more texts.

    Attributes:
        embeddings: One vector per input text, in input order.
        model: The model string used (``openai:text-embedding-3-small``).
        tokens_used: Tokens the provider counted for the whole input.
        estimated_cost_usd: Cost in US dollars, when the model's price is known.
        correlation_id: The ID tying the run's logs and records together.
    """

    embeddings: list[list[float]]
    model: str
    tokens_used: int = 0
    estimated_cost_usd: float | None = None
    correlation_id: str | None = Field(default=None, repr=False)

    @property
    def dimension(self) -> int:
        """Length of each vector (0 when there are none)."""
        return len(self.embeddings[0]) if self.embeddings else 0

    @property
    def count(self) -> int:
        """How many vectors there are."""
        return len(self.embeddings)

    def get_embedding(self, index: int) -> list[float]:
        """The vector of the ``index``-th input text.

        Raises:
            IndexError: There is no text at ``index``; the message says how many there are.
        """
        if not -len(self.embeddings) <= index < len(self.embeddings):
            raise IndexError(
                f"No embedding at index {index}: this result has {len(self.embeddings)}."
            )
        return self.embeddings[index]


def _chunks(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


async def run_embedding(template: ModelCall, run: RunRequest, runtime: Runtime) -> EmbeddingResult:
    """Embed ``run.input`` in as many requests as the transport's limit needs.

    Args:
        template: The call to send, without ``input``.
        run: The embedding run (its ``input`` holds the texts).
        runtime: Where the transport and plugins come from.
    """
    transport = runtime.transport_for(template.provider)
    limit = int(getattr(transport, "embed_batch_limit", EMBEDDING_BATCH_LIMIT) or 1)
    parts = _chunks(list(run.input), max(1, limit))
    responses: list[ModelResponse] = await asyncio.gather(
        *(run_call(attrs.evolve(template, input=tuple(part), run=run), runtime) for part in parts)
    )
    vectors: list[list[float]] = []
    usage = Usage()
    cost: float | None = None
    for part, response in zip(parts, responses, strict=True):
        if len(response.embeddings) != len(part):
            raise APIConnectionError(
                f"{template.model} returned {len(response.embeddings)} embeddings for "
                f"{len(part)} texts (correlation ID {template.correlation_id})."
            )
        vectors.extend(list(vector) for vector in response.embeddings)
        if response.usage is not None:
            usage = usage + response.usage
        if response.estimated_cost_usd is not None:
            cost = (cost or 0.0) + response.estimated_cost_usd
    return EmbeddingResult(
        embeddings=vectors,
        model=template.model,
        tokens_used=usage.total_tokens or usage.prompt_tokens,
        estimated_cost_usd=cost,
        correlation_id=template.correlation_id,
    )
