"""Ready-made agents and workflows for the CLI demos (``gluellm test-<pattern>-workflow``).

Each builder takes the model and the command's options and returns a workflow whose
agents all use that model, so the demos run offline on ``test:demo``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gluellm.models.agent import Agent
from gluellm.models.prompt import SystemPrompt
from gluellm_plugins_workflows.base import BaseWorkflow
from gluellm_plugins_workflows.config import (
    ChainOfDensityConfig,
    ChatRoomConfig,
    ConsensusConfig,
    ConstitutionalConfig,
    CriticConfig,
    DebateConfig,
    ExpertConfig,
    HierarchicalConfig,
    IterativeConfig,
    MapReduceConfig,
    MoEConfig,
    Principle,
    RAGConfig,
    ReActConfig,
    ReflectionConfig,
    RoundRobinConfig,
    SocraticConfig,
    TreeOfThoughtsConfig,
)
from gluellm_plugins_workflows.executors import AgentExecutor

__all__ = ["BUILDERS", "DEFAULT_INPUTS", "agent"]


def agent(
    name: str, instructions: str, model: str, tools: list[Any] | None = None
) -> AgentExecutor:
    """An `AgentExecutor` for a demo agent."""
    return AgentExecutor(
        Agent(
            name=name,
            description=instructions,
            system_prompt=SystemPrompt(content=instructions),
            tools=tools or [],
            model=model,
        )
    )


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city's name.
    """
    return f"It is 18°C and sunny in {city}."


_DOCS = [
    {
        "content": "Python is a high-level, general-purpose programming language.",
        "source": "python-overview",
    },
    {
        "content": "Python emphasizes readability and supports several paradigms.",
        "source": "python-design",
    },
    {
        "content": "asyncio is Python's standard library for asynchronous I/O.",
        "source": "asyncio-docs",
    },
]


def demo_retriever(query: str) -> list[dict[str, str]]:
    """Documents sharing a word with the query, from a tiny in-memory corpus."""
    words = {w.strip("?.,!").casefold() for w in query.split()}
    return [d for d in _DOCS if words & {w.strip(".,").casefold() for w in d["content"].split()}]


def _iterative(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.iterative import IterativeRefinementWorkflow

    specialties = [
        ("grammar and clarity", "Optimize for readability and eliminate errors"),
        ("writing style", "Ensure an engaging, well-structured narrative"),
        ("technical accuracy", "Make every technical claim correct"),
        ("structure", "Give the piece a clear beginning, middle and end"),
    ]
    critics = [
        CriticConfig(
            executor=agent(
                f"{s.title()} Critic", f"You review {s}. Give specific feedback.", model
            ),
            specialty=s,
            goal=g,
        )
        for s, g in (specialties * 4)[: o.get("critics", 2)]
    ]
    return IterativeRefinementWorkflow(
        producer=agent(
            "Writer", "You are a technical writer. Write clear, engaging content.", model
        ),
        critics=critics,
        config=IterativeConfig(max_iterations=o.get("iterations", 3)),
    )


def _pipeline(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.pipeline import PipelineWorkflow

    stages = [
        ("research", "You gather and organize information. Provide comprehensive research."),
        ("write", "You write clear, engaging content based on the research provided."),
        ("edit", "You review and polish written content to improve clarity and quality."),
        ("summarize", "You write a short summary of the content you are given."),
    ]
    count = max(1, o.get("stages", 3))
    chosen = (stages * 4)[:count]
    return PipelineWorkflow(stages=[(n, agent(n.title(), i, model)) for n, i in chosen])


def _debate(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.debate import DebateWorkflow

    judge = None if o.get("no_judge") else agent("Judge", "You are an impartial judge.", model)
    return DebateWorkflow(
        participants=[
            (
                "Pro",
                agent("Proponent", "You argue in favor with strong, logical arguments.", model),
            ),
            ("Con", agent("Opponent", "You argue against with strong counter-arguments.", model)),
        ],
        judge=judge,
        config=DebateConfig(max_rounds=o.get("rounds", 3), judge_decides=judge is not None),
    )


def _reflection(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.reflection import ReflectionWorkflow

    return ReflectionWorkflow(
        generator=agent("Writer", "You write clear, accurate content.", model),
        reflector=agent("Reflector", "You critique writing honestly and specifically.", model),
        config=ReflectionConfig(max_reflections=o.get("reflections", 3)),
    )


def _chain_of_density(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.chain_of_density import ChainOfDensityWorkflow

    return ChainOfDensityWorkflow(
        generator=agent("Summarizer", "You write dense, informative summaries.", model),
        config=ChainOfDensityConfig(num_iterations=o.get("iterations", 3)),
    )


def _socratic(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.socratic import SocraticWorkflow

    return SocraticWorkflow(
        questioner=agent("Questioner", "You ask probing, Socratic questions.", model),
        responder=agent("Responder", "You answer questions thoughtfully.", model),
        config=SocraticConfig(max_exchanges=o.get("exchanges", 3)),
    )


def _rag(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.rag import RAGWorkflow

    return RAGWorkflow(
        retriever=demo_retriever,
        generator=agent("Generator", "You answer from the context you are given.", model),
        verifier=agent("Verifier", "You check answers against their sources.", model),
        config=RAGConfig(verify_facts=True),
    )


def _round_robin(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.round_robin import RoundRobinWorkflow

    return RoundRobinWorkflow(
        agents=[
            ("Writer", agent("Writer", "You write content.", model)),
            ("Editor", agent("Editor", "You edit content.", model)),
            ("Reviewer", agent("Reviewer", "You review content.", model)),
        ],
        config=RoundRobinConfig(max_rounds=o.get("rounds", 2)),
    )


def _consensus(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.consensus import ConsensusWorkflow

    return ConsensusWorkflow(
        proposers=[
            (f"Agent{i}", agent(f"Agent{i}", "You propose practical solutions.", model))
            for i in (1, 2, 3)
        ],
        config=ConsensusConfig(max_rounds=o.get("rounds", 3)),
    )


def _hierarchical(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.hierarchical import HierarchicalWorkflow

    return HierarchicalWorkflow(
        manager=agent("Manager", "You break tasks down and synthesize results.", model),
        workers=[
            ("Researcher", agent("Researcher", "You research topics.", model)),
            ("Writer", agent("Writer", "You write reports.", model)),
        ],
        config=HierarchicalConfig(max_subtasks=3),
    )


def _map_reduce(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.map_reduce import MapReduceWorkflow

    return MapReduceWorkflow(
        mapper=agent("Mapper", "You summarize document sections.", model),
        reducer=agent("Reducer", "You combine summaries into one.", model),
        config=MapReduceConfig(chunk_size=200, chunk_overlap=20, max_parallel_chunks=4),
    )


def _react(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.react import ReActWorkflow

    return ReActWorkflow(
        reasoner=agent("Reasoner", "You reason step by step and use tools.", model, [get_weather]),
        config=ReActConfig(max_steps=o.get("steps", 5)),
    )


def _mixture_of_experts(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.mixture_of_experts import MixtureOfExpertsWorkflow

    return MixtureOfExpertsWorkflow(
        experts=[
            ExpertConfig(
                executor=agent("Math Expert", "You are a mathematician.", model),
                specialty="mathematics",
                description="Expert in math and calculations",
                activation_keywords=["calculate", "math", "equation"],
            ),
            ExpertConfig(
                executor=agent("Code Expert", "You are a programmer.", model),
                specialty="programming",
                description="Expert in coding",
                activation_keywords=["code", "program"],
            ),
        ],
        config=MoEConfig(routing_strategy="keyword"),
    )


def _constitutional(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.constitutional import ConstitutionalWorkflow

    return ConstitutionalWorkflow(
        generator=agent("Writer", "You write helpful responses.", model),
        critic=agent("Critic", "You check content against principles.", model),
        config=ConstitutionalConfig(
            principles=[
                Principle(
                    name="harmless",
                    description="Content should not cause harm",
                    severity="critical",
                ),
                Principle(
                    name="helpful", description="Content should be helpful", severity="error"
                ),
            ],
            max_revisions=o.get("revisions", 2),
        ),
    )


def _tree_of_thoughts(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.tree_of_thoughts import TreeOfThoughtsWorkflow

    return TreeOfThoughtsWorkflow(
        thinker=agent("Thinker", "You reason carefully about problems.", model),
        evaluator=agent("Evaluator", "You evaluate reasoning.", model),
        config=TreeOfThoughtsConfig(branching_factor=2, max_depth=o.get("depth", 2)),
    )


def _chat_room(model: str, o: dict[str, Any]) -> BaseWorkflow:
    from gluellm_plugins_workflows.chat_room import ChatRoomWorkflow

    return ChatRoomWorkflow(
        participants=[
            ("Optimist", agent("Optimist", "You see the opportunities.", model)),
            ("Skeptic", agent("Skeptic", "You see the risks.", model)),
            ("Engineer", agent("Engineer", "You think about how to build it.", model)),
        ],
        moderator=agent("Moderator", "You moderate discussions and keep them focused.", model),
        config=ChatRoomConfig(max_rounds=o.get("rounds", 4)),
    )


BUILDERS: dict[str, Callable[[str, dict[str, Any]], BaseWorkflow]] = {
    "iterative": _iterative,
    "pipeline": _pipeline,
    "debate": _debate,
    "reflection": _reflection,
    "chain_of_density": _chain_of_density,
    "socratic": _socratic,
    "rag": _rag,
    "round_robin": _round_robin,
    "consensus": _consensus,
    "hierarchical": _hierarchical,
    "map_reduce": _map_reduce,
    "react": _react,
    "mixture_of_experts": _mixture_of_experts,
    "constitutional": _constitutional,
    "tree_of_thoughts": _tree_of_thoughts,
    "chat_room": _chat_room,
}
"""Pattern name -> builder(model, options)."""

DEFAULT_INPUTS: dict[str, str] = {
    "iterative": "Write a short article about Python async programming",
    "pipeline": "Topic: The benefits of async programming in Python",
    "debate": "Should AI development be regulated by governments?",
    "reflection": "Write an article about Python",
    "chain_of_density": "Summarize: Python is a language created by Guido van Rossum in 1991.",
    "socratic": "What is artificial intelligence?",
    "rag": "What is Python?",
    "round_robin": "Write an article about AI",
    "consensus": "Design a caching strategy for a read-heavy web API",
    "hierarchical": "Research and write a report on AI",
    "map_reduce": " ".join(
        f"Section {i}: asynchronous programming lets one thread wait on many I/O operations."
        for i in range(1, 9)
    ),
    "react": "What is the weather in Paris?",
    "mixture_of_experts": "Calculate the factorial of 10",
    "constitutional": "Write a response about AI safety",
    "tree_of_thoughts": "How can 4, 7, 8 and 8 make 24?",
    "chat_room": "Should our team adopt a four-day work week?",
}
"""The input each demo uses when none is given."""
