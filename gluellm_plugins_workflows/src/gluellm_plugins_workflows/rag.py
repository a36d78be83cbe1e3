"""Retrieval-augmented generation: your retriever, a generator, an optional fact check.

Cost: one generator call, plus one verifier call with ``verify_facts``. The retriever
is your function (sync or async) returning ``[{"content": ..., "source": ...}, ...]``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import RAGConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["RAGConfig", "RAGWorkflow", "Retriever", "Verification"]

Retriever: TypeAlias = Callable[
    [str], "Sequence[Mapping[str, Any]] | Awaitable[Sequence[Mapping[str, Any]]]"
]
"""``retriever(query) -> [{"content": str, "source": str}, ...]`` (sync or async)."""

NO_CONTEXT_ANSWER = "No relevant context was found for this question, so it was not answered."


class Verification(BaseModel):
    """The verifier's check of an answer against the retrieved context."""

    supported: bool = Field(description="True when every claim is supported by the context.")
    unsupported_claims: list[str] = Field(default_factory=list)
    corrected_answer: str | None = Field(
        default=None, description="The answer with unsupported claims removed or fixed."
    )


def _context(chunks: Sequence[Mapping[str, Any]]) -> str:
    return "\n\n".join(
        f"[{index}] (source: {chunk.get('source', 'unknown')})\n{chunk.get('content', '')}"
        for index, chunk in enumerate(chunks, 1)
    )


def generate_prompt(question: str, chunks: Sequence[Mapping[str, Any]], cite: bool) -> str:
    """What the generator is asked when context was found."""
    citing = " Cite the context you use as [n]." if cite else ""
    return (
        f"Answer the question using the context below.{citing} If the context does not "
        f"contain the answer, say so.\n\nContext:\n{_context(chunks)}\n\nQuestion: {question}"
    )


def fallback_prompt(question: str) -> str:
    """What the generator is asked when retrieval found nothing."""
    return (
        "No documents were found for this question. Answer from general knowledge, and say "
        f"that the answer is not backed by retrieved sources.\n\nQuestion: {question}"
    )


def verify_prompt(question: str, chunks: Sequence[Mapping[str, Any]], answer: str) -> str:
    """What the verifier is asked."""
    return (
        f"Question: {question}\n\nContext:\n{_context(chunks)}\n\nAnswer to check:\n{answer}\n\n"
        "Check every claim of the answer against the context. List unsupported claims and, "
        "if there are any, give a corrected answer that only states what the context supports."
    )


class RAGWorkflow(BaseWorkflow):
    """Retrieve, generate with the context, optionally verify; sources attached.

    Args:
        retriever: Finds context for the query.
        generator: Writes the answer.
        verifier: Checks it (``verify_facts``); by default the generator.
        config: Chunks, sources, verification and the no-context fallback.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "rag"

    def __init__(
        self,
        retriever: Retriever,
        generator: Executor,
        verifier: Executor | None = None,
        config: RAGConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.retriever = retriever
        self.generator = generator
        self.verifier = verifier
        self.config = config or RAGConfig()

    async def _retrieve(self, state: WorkflowState) -> list[Mapping[str, Any]]:
        async def work() -> list[Mapping[str, Any]]:
            found = self.retriever(state.input)
            if inspect.isawaitable(found):
                found = await found
            return list(found)[: self.config.max_retrieved_chunks]

        return await state.run_step(
            "retriever",
            "retrieval",
            state.input,
            work,
            lambda chunks: _context(chunks),
            {},
        )

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        chunks = await self._retrieve(state)
        sources = list(dict.fromkeys(str(c.get("source", "unknown")) for c in chunks))
        state.metadata.update(
            retrieved_chunks=len(chunks), sources=sources, used_fallback=False, verified=None
        )
        if not chunks:
            if not config.fallback_on_no_context:
                return NO_CONTEXT_ANSWER
            state.metadata["used_fallback"] = True
            answer = await state.step(
                self.generator, fallback_prompt(state.input), role="generator"
            )
            state.iterations = 1
            return answer
        answer = await state.step(
            self.generator,
            generate_prompt(state.input, chunks, config.include_sources),
            role="generator",
        )
        state.output = answer
        state.iterations = 1
        if config.verify_facts:
            check = await state.decide(
                self.verifier or self.generator,
                verify_prompt(state.input, chunks, answer),
                Verification,
                role="verifier",
                fallback=lambda raw: Verification(supported=False),
            )
            state.metadata.update(
                verified=check.supported, unsupported_claims=check.unsupported_claims
            )
            if not check.supported and check.corrected_answer:
                answer = check.corrected_answer
            state.iterations = 2
        if config.include_sources:
            answer = f"{answer}\n\nSources: {', '.join(sources)}"
        return answer
