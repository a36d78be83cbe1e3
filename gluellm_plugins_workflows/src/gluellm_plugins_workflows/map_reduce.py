"""MapReduce: split the input into chunks, map them concurrently, reduce the results.

Cost: one map call per chunk (at most ``max_parallel_chunks`` at once), then
``summarize``: one reduce call; ``hierarchical``: one call per group of
``reduce_fan_in`` results, level by level, until one remains; ``concatenate``: none.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import MapReduceConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import numbered

__all__ = ["MapReduceConfig", "MapReduceWorkflow", "split_into_chunks"]

_PARAGRAPHS = re.compile(r"\n\s*\n")


def split_into_chunks(text: str, chunk_size: int | None, overlap: int = 0) -> list[str]:
    """Split ``text`` into chunks.

    Without ``chunk_size``: one chunk per paragraph (blank-line separated). With it:
    windows of at most ``chunk_size`` characters, consecutive windows sharing
    ``overlap`` characters, each cut at whitespace when there is some in its second half.
    """
    if chunk_size is None:
        return [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
    text = text.strip()
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + chunk_size, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + chunk_size // 2, end)
            if cut > start:
                end = cut
        chunks.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return [c for c in chunks if c]


def map_prompt(task: str, chunk: str, index: int, total: int) -> str:
    """What the mapper is asked per chunk."""
    return (
        f"You are processing part {index} of {total} of a document.\n\n"
        f"Instructions: extract and summarize what matters in this part.\n\nPart {index}:\n{chunk}"
    )


def reduce_prompt(results: list[str]) -> str:
    """What the reducer is asked."""
    return (
        "Combine these partial results into one coherent, complete result, removing "
        f"repetition:\n\n{numbered(results)}"
    )


class MapReduceWorkflow(BaseWorkflow):
    """Chunk, map in parallel, reduce.

    Args:
        mapper: Processes each chunk.
        reducer: Combines the results; by default the mapper.
        config: Chunking, parallelism and reduce strategy.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "map_reduce"

    def __init__(
        self,
        mapper: Executor,
        reducer: Executor | None = None,
        config: MapReduceConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.mapper = mapper
        self.reducer = reducer or mapper
        self.config = config or MapReduceConfig()

    def _map(
        self, state: WorkflowState, chunk: str, index: int, total: int
    ) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            return await state.step(
                self.mapper,
                map_prompt(state.input, chunk, index, total),
                role="mapper",
                chunk=index,
            )

        return work

    def _reduce(
        self, state: WorkflowState, results: list[str], level: int
    ) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            return await state.step(
                self.reducer, reduce_prompt(results), role="reducer", level=level
            )

        return work

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        chunks = split_into_chunks(state.input, config.chunk_size, config.chunk_overlap)
        if len(chunks) > config.max_chunks:
            raise ValueError(
                f"The input splits into {len(chunks)} chunks, more than max_chunks="
                f"{config.max_chunks}. Raise chunk_size or max_chunks."
            )
        state.metadata["num_chunks"] = len(chunks)
        mapped = await state.parallel(
            [self._map(state, c, i, len(chunks)) for i, c in enumerate(chunks, 1)],
            config.max_parallel_chunks,
        )
        state.iterations = 1
        state.output = "\n\n".join(mapped)
        state.metadata["reduce_strategy"] = config.reduce_strategy
        if config.reduce_strategy == "concatenate" or (
            len(mapped) == 1 and config.reduce_strategy == "hierarchical"
        ):
            return state.output
        if config.reduce_strategy == "summarize":
            state.iterations = 2
            return await self._reduce(state, mapped, 1)()
        level = 0
        results = mapped
        while len(results) > 1:
            level += 1
            groups = [
                results[i : i + config.reduce_fan_in]
                for i in range(0, len(results), config.reduce_fan_in)
            ]
            results = await state.parallel(
                [
                    self._reduce(state, g, level) if len(g) > 1 else _passthrough(g[0])
                    for g in groups
                ],
                config.max_parallel_chunks,
            )
            state.output = "\n\n".join(results)
        state.metadata["reduce_levels"] = level
        state.iterations = 1 + level
        return results[0]


def _passthrough(text: str) -> Callable[[], Awaitable[str]]:
    async def work() -> str:
        return text

    return work
