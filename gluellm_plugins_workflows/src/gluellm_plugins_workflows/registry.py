"""The patterns by name: what ``register_workflows`` registers and the CLI lists."""

from __future__ import annotations

import importlib

__all__ = ["PATTERNS", "load"]

PATTERNS: dict[str, tuple[str, str]] = {
    "iterative": ("iterative", "IterativeRefinementWorkflow"),
    "pipeline": ("pipeline", "PipelineWorkflow"),
    "debate": ("debate", "DebateWorkflow"),
    "reflection": ("reflection", "ReflectionWorkflow"),
    "chain_of_density": ("chain_of_density", "ChainOfDensityWorkflow"),
    "socratic": ("socratic", "SocraticWorkflow"),
    "rag": ("rag", "RAGWorkflow"),
    "round_robin": ("round_robin", "RoundRobinWorkflow"),
    "consensus": ("consensus", "ConsensusWorkflow"),
    "hierarchical": ("hierarchical", "HierarchicalWorkflow"),
    "map_reduce": ("map_reduce", "MapReduceWorkflow"),
    "react": ("react", "ReActWorkflow"),
    "mixture_of_experts": ("mixture_of_experts", "MixtureOfExpertsWorkflow"),
    "constitutional": ("constitutional", "ConstitutionalWorkflow"),
    "tree_of_thoughts": ("tree_of_thoughts", "TreeOfThoughtsWorkflow"),
    "chat_room": ("chat_room", "ChatRoomWorkflow"),
}
"""Registered name -> (module in this package, class name)."""


def load(name: str) -> type:
    """The workflow class registered as ``name``.

    Raises:
        KeyError: No pattern has that name.
    """
    module, attribute = PATTERNS[name]
    cls: type = getattr(importlib.import_module(f"gluellm_plugins_workflows.{module}"), attribute)
    return cls
