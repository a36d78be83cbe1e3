"""Configuration models of every pattern (also importable from ``gluellm.models.workflow``).

Fields and defaults follow the GlueLLM README; fields it does not name (concurrency
bounds, the chat room's selection strategy ...) are additions with defaults that keep
the documented behaviour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gluellm_plugins_workflows.executors import Executor

__all__ = [
    "ChainOfDensityConfig",
    "ChatRoomConfig",
    "ConsensusConfig",
    "ConstitutionalConfig",
    "CriticConfig",
    "DebateConfig",
    "ExpertConfig",
    "HierarchicalConfig",
    "IterativeConfig",
    "MapReduceConfig",
    "MoEConfig",
    "Principle",
    "RAGConfig",
    "ReActConfig",
    "ReflectionConfig",
    "RoundRobinConfig",
    "SocraticConfig",
    "TreeOfThoughtsConfig",
]

QualityEvaluator = Callable[[str, Mapping[str, str]], "float | Awaitable[float]"]
"""``(content, feedback by critic specialty) -> score in [0, 1]`` (sync or async)."""

_PARALLEL = "Most steps of this phase running at once; None: all of them."


class CriticConfig(BaseModel):
    """A specialized critic of an iterative refinement workflow."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    executor: Executor = Field(description="The executor that plays this critic.")
    specialty: str = Field(description="The critic's focus area (grammar, accuracy ...).")
    goal: str = Field(description="What the critic optimizes for.")
    weight: float = Field(default=1.0, ge=0.0, description="Weight of this critic's score.")


class IterativeConfig(BaseModel):
    """How an iterative refinement workflow iterates and when it stops early."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_iterations: int = Field(default=3, gt=0, description="Most refinement rounds.")
    min_quality_score: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Stop once the quality reaches this."
    )
    convergence_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Stop once the quality changes by less than this between rounds.",
    )
    quality_evaluator: QualityEvaluator | None = Field(
        default=None, description="Scores (content, feedback) instead of the critics' scores."
    )
    max_parallel_critics: int | None = Field(default=None, gt=0, description=_PARALLEL)


class DebateConfig(BaseModel):
    """How long a debate runs and who decides."""

    max_rounds: int = Field(
        default=3, gt=0, description="Most rounds; each participant speaks once per round."
    )
    require_consensus: bool = Field(
        default=False, description="Check for consensus after each round and stop when reached."
    )
    judge_decides: bool = Field(default=True, description="The judge (if any) writes the verdict.")


class ReflectionConfig(BaseModel):
    """Self-critique loop settings."""

    max_reflections: int = Field(default=3, gt=0, description="Most critique-and-improve rounds.")
    min_improvement_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Stop when the critique's score improves by less than this.",
    )
    reflection_prompt_template: str | None = Field(
        default=None,
        description="Custom critique prompt; may use {task} and {content}.",
    )


class ChainOfDensityConfig(BaseModel):
    """Chain of density settings."""

    num_iterations: int = Field(default=5, gt=0, description="Versions written, first included.")
    density_increment: Literal["entities", "details", "examples"] = Field(
        default="entities", description="What each version adds."
    )
    preserve_length: bool = Field(default=True, description="Keep each version about as long.")


class SocraticConfig(BaseModel):
    """Socratic dialogue settings."""

    max_exchanges: int = Field(default=5, gt=0, description="Most question-answer exchanges.")
    mode: Literal["teacher_student", "peer"] = Field(default="peer")
    synthesis_at_end: bool = Field(
        default=True, description="End with a synthesis of the dialogue."
    )


class RAGConfig(BaseModel):
    """Retrieval-augmented generation settings."""

    max_retrieved_chunks: int = Field(
        default=5, gt=0, description="Most chunks given to the generator."
    )
    include_sources: bool = Field(default=True, description="Append the sources used.")
    verify_facts: bool = Field(default=False, description="Check the answer against the context.")
    fallback_on_no_context: bool = Field(
        default=True, description="Answer without context when retrieval finds nothing."
    )


class RoundRobinConfig(BaseModel):
    """Round-robin collaboration settings."""

    max_rounds: int = Field(
        default=3, gt=0, description="Rounds; every agent speaks once per round."
    )
    contribution_style: Literal["extend", "refine", "challenge"] = Field(default="extend")
    final_synthesis: bool = Field(default=True, description="End with one synthesis.")


class ConsensusConfig(BaseModel):
    """Consensus building settings."""

    min_agreement_ratio: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Share of the votes the winner needs."
    )
    max_rounds: int = Field(default=5, gt=0, description="Most propose-and-vote rounds.")
    voting_strategy: Literal["majority", "unanimous", "weighted"] = Field(default="majority")
    allow_abstention: bool = Field(default=False, description="Voters may abstain.")
    max_parallel: int | None = Field(default=None, gt=0, description=_PARALLEL)


class HierarchicalConfig(BaseModel):
    """Manager-and-workers settings."""

    max_subtasks: int = Field(default=5, gt=0, description="Most subtasks the manager may create.")
    parallel_workers: bool = Field(default=True, description="Run the subtasks concurrently.")
    synthesis_strategy: Literal["concatenate", "summarize", "merge"] = Field(default="summarize")
    max_parallel_workers: int | None = Field(default=None, gt=0, description=_PARALLEL)


class MapReduceConfig(BaseModel):
    """MapReduce settings."""

    chunk_size: int | None = Field(
        default=None, gt=0, description="Characters per chunk; None: one chunk per paragraph."
    )
    chunk_overlap: int = Field(default=0, ge=0, description="Characters shared by neighbours.")
    max_parallel_chunks: int | None = Field(default=None, gt=0, description=_PARALLEL)
    reduce_strategy: Literal["concatenate", "summarize", "hierarchical"] = Field(
        default="summarize"
    )
    reduce_fan_in: int = Field(
        default=4, ge=2, description="Results combined per reduce call (hierarchical)."
    )
    max_chunks: int = Field(default=200, gt=0, description="Refuse inputs that split into more.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> MapReduceConfig:
        if self.chunk_size is not None and self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size "
                f"({self.chunk_size}); e.g. chunk_size=1000, chunk_overlap=100."
            )
        return self


class ReActConfig(BaseModel):
    """Reasoning-and-acting settings."""

    max_steps: int = Field(default=10, gt=0, description="Most thought/action steps.")
    thought_prefix: str = Field(default="Thought:")
    action_prefix: str = Field(default="Action:")
    observation_prefix: str = Field(default="Observation:")
    stop_on_final_answer: bool = Field(default=True, description="Stop at the first final answer.")


class ExpertConfig(BaseModel):
    """One expert of a mixture of experts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    executor: Executor = Field(description="The executor that plays this expert.")
    specialty: str = Field(description="The expert's domain; its name in routes and votes.")
    description: str = Field(description="What the expert does (shown to the router).")
    activation_keywords: list[str] = Field(
        default_factory=list, description="Words that route a query here (keyword routing)."
    )


class MoEConfig(BaseModel):
    """Mixture of experts settings."""

    routing_strategy: Literal["keyword", "semantic", "all", "top_k"] = Field(default="semantic")
    top_k: int = Field(default=2, gt=0, description="Experts consulted with top_k routing.")
    combine_strategy: Literal["concatenate", "synthesize", "vote"] = Field(default="synthesize")
    max_parallel: int | None = Field(default=None, gt=0, description=_PARALLEL)


class Principle(BaseModel):
    """A principle a constitutional workflow checks the content against."""

    name: str
    description: str
    severity: Literal["warning", "error", "critical"] = "error"


class ConstitutionalConfig(BaseModel):
    """Constitutional critique-and-revise settings."""

    principles: list[Principle] = Field(min_length=1)
    max_revisions: int = Field(default=3, gt=0, description="Most revisions after the first draft.")
    require_all_pass: bool = Field(
        default=True,
        description="Every principle must pass; False: only critical violations force a revision.",
    )


class TreeOfThoughtsConfig(BaseModel):
    """Tree of thoughts search settings."""

    branching_factor: int = Field(default=3, gt=0, description="Thoughts proposed per node.")
    max_depth: int = Field(default=3, gt=0, description="Levels of the tree.")
    evaluation_strategy: Literal["vote", "score", "best_first"] = Field(default="score")
    prune_threshold: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Drop thoughts scored below."
    )
    beam_width: int | None = Field(
        default=None, gt=0, description="Nodes kept per level; None: branching_factor."
    )
    max_parallel: int | None = Field(default=None, gt=0, description=_PARALLEL)


class ChatRoomConfig(BaseModel):
    """Chat room settings: who speaks next, and when the conversation ends."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_rounds: int = Field(default=10, gt=0, description="Most turns (a hard bound).")
    allow_moderator_interjection: bool = Field(
        default=True, description="The moderator's comments join the conversation."
    )
    synthesis_rounds: int = Field(default=1, gt=0, description="Passes writing the final answer.")
    selection_strategy: Literal["moderator", "round_robin", "random"] | None = Field(
        default=None, description="Who speaks next; None: the moderator if there is one."
    )
    stop_condition: Callable[[list[dict[str, Any]]], bool] | None = Field(
        default=None, description="Called with the transcript after each turn; True ends it."
    )
    seed: int | None = Field(default=None, description="Seed of the random selection.")
