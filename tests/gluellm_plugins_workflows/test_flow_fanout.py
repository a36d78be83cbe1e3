"""Message flows of the fan-out patterns (consensus, hierarchical, MapReduce, MoE, ToT ...)."""

from __future__ import annotations

import itertools
import re

import pytest

from gluellm_plugins_workflows.config import (
    ConsensusConfig,
    ExpertConfig,
    HierarchicalConfig,
    MapReduceConfig,
    MoEConfig,
    RAGConfig,
    ReActConfig,
    TreeOfThoughtsConfig,
)
from gluellm_plugins_workflows.consensus import ConsensusWorkflow, Vote, tally
from gluellm_plugins_workflows.hierarchical import HierarchicalWorkflow, Subtask, TaskPlan
from gluellm_plugins_workflows.map_reduce import MapReduceWorkflow, split_into_chunks
from gluellm_plugins_workflows.mixture_of_experts import (
    BestAnswer,
    ExpertScore,
    ExpertScores,
    ExpertSelection,
    MixtureOfExpertsWorkflow,
)
from gluellm_plugins_workflows.rag import NO_CONTEXT_ANSWER, RAGWorkflow, Verification
from gluellm_plugins_workflows.react import ReActStep, ReActWorkflow
from gluellm_plugins_workflows.tree_of_thoughts import (
    ThoughtList,
    ThoughtRanking,
    ThoughtScore,
    TreeOfThoughtsWorkflow,
)

from .conftest import counter, make_agent, text


def voter(name: str, votes: list[int]):
    cast = iter(votes)
    proposals = counter(f"{name} plan")

    def answer(prompt, fmt):
        if fmt is Vote:
            return Vote(proposal=next(cast), confidence=0.9)
        return proposals(prompt, fmt)

    return answer


def consensus(config: ConsensusConfig) -> ConsensusWorkflow:
    return ConsensusWorkflow(
        proposers=[(name, make_agent(name)) for name in ("A", "B", "C")], config=config
    )


async def test_consensus_proposes_votes_revises_until_agreement(model):
    m = model(A=voter("A", [1, 2]), B=voter("B", [2, 2]), C=voter("C", [3, 3]))
    result = await consensus(ConsensusConfig(min_agreement_ratio=0.6, max_rounds=3)).execute(
        "Design X"
    )
    log = m.log
    assert len(log) == 12  # two rounds of 3 proposals and 3 votes
    assert sorted(a for a, _, f in log[:3]) == ["A", "B", "C"]
    assert all(f is None for _, _, f in log[:3])
    assert all(f is Vote for _, _, f in log[3:6])
    assert all("[2] B plan 1" in p for _, p, f in log[3:6])
    revision = m.prompts("A")[2]
    assert "A -> 1" in revision
    assert "C -> 3" in revision
    assert "[3] C plan 1" in revision
    assert result.metadata["consensus_reached"] is True
    assert result.final_output == "B plan 2"
    assert result.metadata["winner"] == "B"
    assert result.iterations == 2


async def test_consensus_without_agreement_returns_the_leader_after_max_rounds(model):
    m = model(A=voter("A", [1, 1]), B=voter("B", [2, 2]), C=voter("C", [1, 1]))
    result = await consensus(ConsensusConfig(voting_strategy="unanimous", max_rounds=2)).execute(
        "Design X"
    )
    assert len(m.log) == 12
    assert result.metadata["consensus_reached"] is False
    assert result.final_output == "A plan 2"


def test_tally_strategies():
    votes = [
        Vote(proposal=1, confidence=0.2),
        Vote(proposal=2, confidence=1.0),
        Vote(proposal=1, confidence=0.2),
    ]
    assert tally(votes, "majority") == (1, pytest.approx(2 / 3))
    assert tally(votes, "weighted") == (2, pytest.approx(1.0 / 1.4))
    assert tally(votes, "unanimous") == (1, 0.0)
    assert tally([Vote(proposal=0)], "majority") == (0, 0.0)


def manager(subtasks: list[Subtask]):
    def answer(prompt, fmt):
        if fmt is TaskPlan:
            return TaskPlan(subtasks=subtasks)
        return "synthesized report"

    return answer


PLAN = [
    Subtask(description="research history", worker="Researcher"),
    Subtask(description="write summary", worker="writer"),
    Subtask(description="extra part", worker=None),
]


@pytest.mark.parametrize("parallel", [True, False])
async def test_hierarchical_plans_delegates_and_synthesizes(model, parallel):
    m = model(Boss=manager(PLAN), R=counter("findings"), W=counter("text"))
    workflow = HierarchicalWorkflow(
        manager=make_agent("Boss"),
        workers=[("Researcher", make_agent("R")), ("Writer", make_agent("W"))],
        config=HierarchicalConfig(max_subtasks=2, parallel_workers=parallel),
    )
    result = await workflow.execute("Report on AI")
    agents = m.agents()
    assert agents[0] == "Boss"
    assert m.log[0][2] is TaskPlan
    assert sorted(agents[1:3]) == ["R", "W"]  # max_subtasks cut the third
    assert agents[3] == "Boss"
    assert "research history" in m.prompts("R")[0]
    assert "write summary" in m.prompts("W")[0]
    if not parallel:  # sequential workers see the earlier results
        assert "findings 1" in m.prompts("W")[0]
    assert "findings 1" in m.prompts("Boss")[1]
    assert result.final_output == "synthesized report"
    assert [s["worker"] for s in result.metadata["subtasks"]] == ["Researcher", "Writer"]


async def test_hierarchical_concatenate_needs_no_synthesis_call(model):
    m = model(Boss=manager(PLAN), R=text("r"), W=text("w"))
    workflow = HierarchicalWorkflow(
        manager=make_agent("Boss"),
        workers=[("Researcher", make_agent("R")), ("Writer", make_agent("W"))],
        config=HierarchicalConfig(synthesis_strategy="concatenate"),
    )
    result = await workflow.execute("Report")
    assert len(m.log) == 4
    assert (
        result.final_output == "## research history\nr\n\n## write summary\nw\n\n## extra part\nr"
    )


def test_chunking_with_overlap():
    words = " ".join(f"w{i:02d}" for i in range(30))  # 30 words of 3 chars + spaces
    chunks = split_into_chunks(words, 40, 8)
    assert all(len(c) <= 40 for c in chunks)
    for left, right in itertools.pairwise(chunks):
        assert left.split()[-1] in right  # neighbours overlap
    assert {w for c in chunks for w in c.split()} == set(words.split())
    assert split_into_chunks("a\n\nb\n \nc", None) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="chunk_overlap"):
        MapReduceConfig(chunk_size=10, chunk_overlap=10)


def mapper(prompt, fmt):
    part = prompt.split("Part ")[-1].split(":")[0]
    return f"summary of part {part}" if "Combine" not in prompt else f"reduced({prompt.count('[')})"


@pytest.mark.parametrize(
    ("strategy", "calls", "output"),
    [
        ("concatenate", 5, None),
        ("summarize", 6, "reduced(5)"),
        ("hierarchical", 5 + 2 + 1, "reduced(2)"),
    ],
)
async def test_map_reduce_maps_every_chunk_then_reduces(model, strategy, calls, output):
    m = model(Map=mapper)
    document = "\n\n".join(f"Paragraph {i} text." for i in range(1, 6))
    workflow = MapReduceWorkflow(
        mapper=make_agent("Map"),
        config=MapReduceConfig(reduce_strategy=strategy, reduce_fan_in=3, max_parallel_chunks=2),
    )
    result = await workflow.execute(document)
    assert len(m.log) == calls
    map_prompts = [p for p in m.prompts("Map") if "Combine" not in p]
    assert sorted(map_prompts) == sorted(
        f"You are processing part {i} of 5 of a document.\n\nInstructions: extract and "
        f"summarize what matters in this part.\n\nPart {i}:\nParagraph {i} text."
        for i in range(1, 6)
    )
    expected = output or "\n\n".join(f"summary of part {i}" for i in range(1, 6))
    assert result.final_output == expected
    assert result.metadata["num_chunks"] == 5


async def test_map_reduce_refuses_too_many_chunks(model):
    model(Map=mapper)
    workflow = MapReduceWorkflow(make_agent("Map"), config=MapReduceConfig(max_chunks=2))
    with pytest.raises(ValueError, match="max_chunks"):
        await workflow.execute("a\n\nb\n\nc")


def expert(name: str):
    def answer(prompt, fmt):
        if fmt is ExpertSelection:
            return ExpertSelection(experts=["programming"])
        if fmt is ExpertScores:
            return ExpertScores(
                scores=[
                    ExpertScore(specialty="mathematics", score=0.2),
                    ExpertScore(specialty="programming", score=0.9),
                    ExpertScore(specialty="history", score=0.5),
                ]
            )
        if fmt is BestAnswer:
            return BestAnswer(best=2)
        if "Synthesize" in prompt:
            return "synthesis"
        return f"{name} answer"

    return answer


def moe(routing: str, combine: str, top_k: int = 2) -> MixtureOfExpertsWorkflow:
    return MixtureOfExpertsWorkflow(
        experts=[
            ExpertConfig(
                executor=make_agent("Math"),
                specialty="mathematics",
                description="math",
                activation_keywords=["calculate", "equation"],
            ),
            ExpertConfig(
                executor=make_agent("Code"),
                specialty="programming",
                description="code",
                activation_keywords=["code", "python program"],
            ),
            ExpertConfig(executor=make_agent("Hist"), specialty="history", description="past"),
        ],
        config=MoEConfig(routing_strategy=routing, combine_strategy=combine, top_k=top_k),
    )


@pytest.mark.parametrize(
    ("routing", "query", "consulted", "router_calls"),
    [
        ("keyword", "Calculate this with a Python program", {"Math", "Code"}, 0),
        ("keyword", "Tell me a story", {"Math", "Code", "Hist"}, 0),
        ("all", "anything", {"Math", "Code", "Hist"}, 0),
        ("semantic", "anything", {"Code"}, 1),
        ("top_k", "anything", {"Code", "Hist"}, 1),
    ],
)
async def test_moe_routing(model, routing, query, consulted, router_calls):
    m = model(Math=expert("Math"), Code=expert("Code"), Hist=expert("Hist"))
    result = await moe(routing, "concatenate").execute(query)
    routed = [a for a, _, f in m.log if f is not None]
    experts = {a for a, _, f in m.log if f is None}
    assert len(routed) == router_calls
    assert experts == consulted
    assert len(m.log) == router_calls + len(consulted)
    if len(consulted) == 1:
        assert result.final_output == "Code answer"


@pytest.mark.parametrize(
    ("combine", "output", "calls"), [("synthesize", "synthesis", 3), ("vote", "Code answer", 3)]
)
async def test_moe_combining(model, combine, output, calls):
    m = model(Math=expert("Math"), Code=expert("Code"), Hist=expert("Hist"))
    result = await moe("keyword", combine).execute("calculate code")
    assert len(m.log) == calls
    assert m.agents()[-1] == "Math"  # the router defaults to the first expert
    assert "programming: Code answer" in m.log[-1][1]
    assert result.final_output == output


def thinker(prompt, fmt):
    if fmt is ThoughtList:
        depth = prompt.count("Step ")
        return ThoughtList(thoughts=[f"idea{depth}a", f"idea{depth}b", f"idea{depth}c"])
    return "final answer"


def scorer(prompt, fmt):
    if fmt is ThoughtRanking:
        return ThoughtRanking(ranking=[2, 1])
    last = re.findall(r"idea\d([abc])", prompt)[-1]
    return ThoughtScore(score=0.9 if last == "a" else 0.1)


@pytest.mark.parametrize("strategy", ["score", "best_first"])
async def test_tree_of_thoughts_expands_scores_prunes(model, strategy):
    m = model(Think=thinker, Eval=scorer)
    workflow = TreeOfThoughtsWorkflow(
        thinker=make_agent("Think"),
        evaluator=make_agent("Eval"),
        config=TreeOfThoughtsConfig(
            branching_factor=2, max_depth=2, evaluation_strategy=strategy, prune_threshold=0.5
        ),
    )
    result = await workflow.execute("Make 24")
    # depth 1: 1 expansion (2 thoughts) + 2 scores; only "a" survives pruning;
    # depth 2: 1 expansion + 2 scores; then the final answer
    assert m.agents() == ["Think", "Eval", "Eval", "Think", "Eval", "Eval", "Think"]
    assert "Step 1: idea0a" in m.prompts("Think")[1]
    assert result.metadata["best_path"] == ["idea0a", "idea1a"]
    assert result.metadata["pruned"] == 2
    assert "Step 2: idea1a" in m.prompts("Think")[2]
    assert result.final_output == "final answer"


async def test_tree_of_thoughts_vote_ranks_each_level_once(model):
    m = model(Think=thinker, Eval=scorer)
    workflow = TreeOfThoughtsWorkflow(
        thinker=make_agent("Think"),
        evaluator=make_agent("Eval"),
        config=TreeOfThoughtsConfig(
            branching_factor=2, max_depth=2, evaluation_strategy="vote", beam_width=1
        ),
    )
    result = await workflow.execute("Make 24")
    assert m.agents() == ["Think", "Eval", "Think", "Eval", "Think"]
    assert result.metadata["best_path"] == ["idea0b", "idea1b"]


DOCS = [
    {"content": "Python is a language.", "source": "doc1"},
    {"content": "It is typed dynamically.", "source": "doc2"},
]


async def test_rag_retrieves_generates_verifies_and_cites(model):
    queries = []

    async def retriever(query):
        queries.append(query)
        return DOCS * 3

    def verifier(prompt, fmt):
        assert fmt is Verification
        return Verification(supported=False, unsupported_claims=["fast"], corrected_answer="fixed")

    m = model(Gen=text("Python is fast [1]"), Check=verifier)
    workflow = RAGWorkflow(
        retriever=retriever,
        generator=make_agent("Gen"),
        verifier=make_agent("Check"),
        config=RAGConfig(max_retrieved_chunks=3, verify_facts=True),
    )
    result = await workflow.execute("What is Python?")
    assert queries == ["What is Python?"]
    assert m.agents() == ["Gen", "Check"]
    gen = m.prompts("Gen")[0]
    assert "[1] (source: doc1)\nPython is a language." in gen
    assert "[3] (source: doc1)" in gen
    assert "[4]" not in gen
    assert "Python is fast [1]" in m.prompts("Check")[0]
    assert result.final_output == "fixed\n\nSources: doc1, doc2"
    assert result.metadata["verified"] is False
    assert result.agent_interactions[0]["role"] == "retrieval"


@pytest.mark.parametrize("fallback", [True, False])
async def test_rag_without_context(model, fallback):
    m = model(Gen=text("general answer"))
    workflow = RAGWorkflow(
        retriever=lambda q: [],
        generator=make_agent("Gen"),
        config=RAGConfig(fallback_on_no_context=fallback),
    )
    result = await workflow.execute("What is Python?")
    if fallback:
        assert len(m.log) == 1
        assert "No documents were found" in m.prompts("Gen")[0]
        assert result.final_output == "general answer"
        assert result.metadata["used_fallback"] is True
    else:
        assert m.log == []
        assert result.final_output == NO_CONTEXT_ANSWER


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return f"sunny in {city}"


async def test_react_thought_action_observation_final_answer(model):
    steps = iter(
        [
            ReActStep(
                thought="I need the weather", action="get_weather", action_input={"city": "Paris"}
            ),
            ReActStep(thought="Try a bad tool", action="nope", action_input={}),
            ReActStep(thought="I know it", final_answer="Sunny in Paris"),
        ]
    )
    m = model(R=lambda p, fmt: next(steps))
    workflow = ReActWorkflow(
        reasoner=make_agent("R", tools=[get_weather]), config=ReActConfig(max_steps=5)
    )
    result = await workflow.execute("What is the weather in Paris?")
    assert len(m.log) == 3
    prompts = m.prompts("R")
    assert "get_weather" in prompts[0]
    assert "Observation: sunny in Paris" in prompts[1]
    assert "Error: unknown tool 'nope'" in prompts[2]
    assert result.final_output == "Sunny in Paris"
    assert result.metadata["final_answer_found"] is True
    assert [i["role"] for i in result.agent_interactions] == [
        "reasoner",
        "action",
        "reasoner",
        "action",
        "reasoner",
    ]


async def test_react_step_bound_and_structured_call_offers_no_tools(model, provider):
    m = model(
        R=lambda p, fmt: ReActStep(thought="hmm", action="get_weather", action_input={"city": "X"})
    )
    workflow = ReActWorkflow(
        reasoner=make_agent("R", tools=[get_weather]), config=ReActConfig(max_steps=3)
    )
    result = await workflow.execute("Loop forever?")
    assert len(m.log) == 3
    assert all(not call.tools for call in m.transport.calls)
    assert result.metadata["final_answer_found"] is False
    assert result.metadata["stop_because"] == "max_steps"
