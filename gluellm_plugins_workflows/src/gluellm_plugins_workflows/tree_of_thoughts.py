"""Tree of thoughts: propose thoughts, evaluate them, prune, go deeper; answer from the best path.

Cost per level: one thinker call per expanded node (a `ThoughtList` of up to
``branching_factor`` thoughts), then ``score``/``best_first``: one evaluator call per new
thought (a `ThoughtScore`); ``vote``: one evaluator call per level (a `ThoughtRanking`).
``score``/``vote`` expand the best ``beam_width`` nodes of each level (default
``branching_factor``); ``best_first`` expands the single best open node, backtracking
when a branch is pruned away. At most ``max_depth`` levels, then one final call.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import TreeOfThoughtsConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import numbered

__all__ = [
    "ThoughtList",
    "ThoughtRanking",
    "ThoughtScore",
    "TreeOfThoughtsConfig",
    "TreeOfThoughtsWorkflow",
]


class ThoughtList(BaseModel):
    """Candidate next reasoning steps."""

    thoughts: list[str] = Field(description="Distinct candidate next steps.")


class ThoughtScore(BaseModel):
    """How promising a reasoning path is."""

    score: float = Field(ge=0.0, le=1.0, description="0.0 hopeless, 1.0 certainly right.")
    reasoning: str = ""


class ThoughtRanking(BaseModel):
    """Candidates ranked best first, by number."""

    ranking: list[int] = Field(description="Candidate numbers (1-based), best first.")


@attrs.frozen
class Node:
    """A reasoning path and its score."""

    path: tuple[str, ...]
    score: float = 0.0


def _path(path: tuple[str, ...]) -> str:
    return "\n".join(f"Step {i}: {t}" for i, t in enumerate(path, 1)) or "(no steps yet)"


def expand_prompt(problem: str, path: tuple[str, ...], count: int) -> str:
    """What the thinker is asked to expand a node."""
    return (
        f"Problem: {problem}\n\nReasoning so far:\n{_path(path)}\n\n"
        f"Propose {count} distinct, promising next reasoning steps."
    )


def score_prompt(problem: str, path: tuple[str, ...]) -> str:
    """What the evaluator is asked per thought (score, best_first)."""
    return (
        f"Problem: {problem}\n\nReasoning path:\n{_path(path)}\n\n"
        "How likely is this path to lead to a correct, complete solution? Score 0.0 to 1.0."
    )


def rank_prompt(problem: str, paths: list[tuple[str, ...]]) -> str:
    """What the evaluator is asked per level (vote)."""
    return (
        f"Problem: {problem}\n\nCandidate reasoning paths:\n"
        f"{numbered([_path(p) for p in paths])}\n\nRank the candidates by number, best first."
    )


def final_prompt(problem: str, path: tuple[str, ...]) -> str:
    """What the thinker is asked at the end."""
    return (
        f"Problem: {problem}\n\nBest reasoning path found:\n{_path(path)}\n\n"
        "Using this reasoning, give the final, complete answer."
    )


class TreeOfThoughtsWorkflow(BaseWorkflow):
    """Search over reasoning paths with evaluation and pruning.

    Args:
        thinker: Proposes thoughts and writes the final answer.
        evaluator: Scores or ranks thoughts; by default the thinker.
        config: Branching, depth, strategy and pruning.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "tree_of_thoughts"

    def __init__(
        self,
        thinker: Executor,
        evaluator: Executor | None = None,
        config: TreeOfThoughtsConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.thinker = thinker
        self.evaluator = evaluator or thinker
        self.config = config or TreeOfThoughtsConfig()

    def _expand(
        self, state: WorkflowState, node: Node, depth: int
    ) -> Callable[[], Awaitable[list[Node]]]:
        count = self.config.branching_factor

        async def work() -> list[Node]:
            found = await state.decide(
                self.thinker,
                expand_prompt(state.input, node.path, count),
                ThoughtList,
                role="thinker",
                fallback=lambda raw: ThoughtList(thoughts=[raw] if raw else []),
                depth=depth,
            )
            thoughts = [t.strip() for t in found.thoughts if t.strip()][:count]
            return [Node((*node.path, t)) for t in thoughts]

        return work

    def _score(self, state: WorkflowState, node: Node, depth: int) -> Callable[[], Awaitable[Node]]:
        async def work() -> Node:
            verdict = await state.decide(
                self.evaluator,
                score_prompt(state.input, node.path),
                ThoughtScore,
                role="evaluator",
                fallback=lambda raw: ThoughtScore(score=0.0, reasoning="fallback"),
                depth=depth,
            )
            return attrs.evolve(node, score=verdict.score)

        return work

    async def _evaluate(self, state: WorkflowState, children: list[Node], depth: int) -> list[Node]:
        config = self.config
        if config.evaluation_strategy != "vote":
            return await state.parallel(
                [self._score(state, c, depth) for c in children], config.max_parallel
            )
        ranking = await state.decide(
            self.evaluator,
            rank_prompt(state.input, [c.path for c in children]),
            ThoughtRanking,
            role="evaluator",
            fallback=lambda raw: ThoughtRanking(ranking=list(range(1, len(children) + 1))),
            depth=depth,
        )
        order = [i for i in dict.fromkeys(ranking.ranking) if 1 <= i <= len(children)]
        scores = {index: 1.0 - position / len(children) for position, index in enumerate(order)}
        return [attrs.evolve(c, score=scores.get(i, 0.0)) for i, c in enumerate(children, 1)]

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        beam = config.beam_width or config.branching_factor
        frontier = [Node(())]
        best = Node(())
        pruned = 0
        counter = itertools.count()
        open_nodes: list[tuple[float, int, Node]] = []
        for depth in range(1, config.max_depth + 1):
            expansions = await state.parallel(
                [self._expand(state, n, depth) for n in frontier], config.max_parallel
            )
            children = [c for group in expansions for c in group]
            scored = await self._evaluate(state, children, depth) if children else []
            kept = [c for c in scored if c.score >= config.prune_threshold]
            pruned += len(scored) - len(kept)
            state.iterations = depth
            for node in kept:
                if (node.score, len(node.path)) > (best.score, len(best.path)):
                    best = node
            state.output = _path(best.path)
            if config.evaluation_strategy == "best_first":
                for node in kept:
                    heapq.heappush(open_nodes, (-node.score, next(counter), node))
                if not open_nodes:
                    break
                frontier = [heapq.heappop(open_nodes)[2]]
            else:
                if not kept:
                    break
                frontier = sorted(kept, key=lambda n: -n.score)[:beam]
        state.metadata.update(
            best_path=list(best.path),
            best_score=best.score,
            pruned=pruned,
            evaluation_strategy=config.evaluation_strategy,
        )
        return await state.step(self.thinker, final_prompt(state.input, best.path), role="final")
