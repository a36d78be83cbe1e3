"""Message flows of the conversational patterns (pipeline, debate, Socratic, round-robin ...)."""

from __future__ import annotations

import pytest

from gluellm_plugins_workflows.chat_room import ChatRoomWorkflow, ModeratorDecision
from gluellm_plugins_workflows.config import (
    ChatRoomConfig,
    DebateConfig,
    RoundRobinConfig,
    SocraticConfig,
)
from gluellm_plugins_workflows.debate import ConsensusCheck, DebateWorkflow
from gluellm_plugins_workflows.pipeline import PipelineWorkflow
from gluellm_plugins_workflows.round_robin import RoundRobinWorkflow
from gluellm_plugins_workflows.socratic import SocraticQuestion, SocraticWorkflow

from .conftest import counter, make_agent, text


async def test_pipeline_feeds_each_stage_the_previous_output(model):
    m = model(R=text("facts"), W=text("article"), E=text("polished article"))
    workflow = PipelineWorkflow(
        stages=[
            ("research", make_agent("R")),
            ("write", make_agent("W")),
            ("edit", make_agent("E")),
        ]
    )
    result = await workflow.execute("Topic: async")
    assert m.log == [("R", "Topic: async", None), ("W", "facts", None), ("E", "article", None)]
    assert result.iterations == 3
    assert result.final_output == "polished article"
    assert [i["stage"] for i in result.agent_interactions] == ["research", "write", "edit"]
    assert [i["output"] for i in result.agent_interactions] == [
        "facts",
        "article",
        "polished article",
    ]


async def test_debate_two_participants_three_rounds_and_judge_make_seven_calls(model):
    m = model(Pro=counter("pro argument"), Con=counter("con argument"), Judge=text("Pro wins"))
    workflow = DebateWorkflow(
        participants=[("Pro", make_agent("Pro")), ("Con", make_agent("Con"))],
        judge=make_agent("Judge"),
        config=DebateConfig(max_rounds=3, judge_decides=True),
    )
    result = await workflow.execute("Should AI be regulated?")
    assert m.agents() == ["Pro", "Con"] * 3 + ["Judge"]
    pro, con = m.prompts("Pro"), m.prompts("Con")
    assert "You speak first" in pro[0]
    assert "Pro: pro argument 1" in con[0]
    # each debater sees every previous argument
    assert "Con: con argument 1" in pro[1]
    assert "Pro: pro argument 1" in pro[1]
    assert all(f"con argument {i}" in con[2] for i in (1, 2))
    assert "pro argument 3" in con[2]
    judge = m.prompts("Judge")[0]
    assert all(f"argument {i}" in judge for i in (1, 2, 3))
    assert result.final_output == "Pro wins"
    assert result.iterations == 3
    assert result.metadata["judge_decision"] is True
    assert len(result.agent_interactions) == 7


async def test_debate_without_judge_returns_the_transcript(model):
    m = model(Pro=counter("p"), Con=counter("c"))
    workflow = DebateWorkflow(
        participants=[("Pro", make_agent("Pro")), ("Con", make_agent("Con"))],
        config=DebateConfig(max_rounds=2),
    )
    result = await workflow.execute("Topic")
    assert len(m.log) == 4
    assert result.final_output == "Pro: p 1\n\nCon: c 1\n\nPro: p 2\n\nCon: c 2"


async def test_debate_consensus_check_ends_early(model):
    checks = iter(
        [
            ConsensusCheck(consensus_reached=False),
            ConsensusCheck(consensus_reached=True, agreed_position="both"),
        ]
    )

    def judge(prompt, fmt):
        return next(checks) if fmt is ConsensusCheck else "verdict"

    m = model(Pro=counter("p"), Con=counter("c"), Judge=judge)
    workflow = DebateWorkflow(
        participants=[("Pro", make_agent("Pro")), ("Con", make_agent("Con"))],
        judge=make_agent("Judge"),
        config=DebateConfig(max_rounds=5, require_consensus=True, judge_decides=False),
    )
    result = await workflow.execute("Topic")
    assert m.agents() == ["Pro", "Con", "Judge", "Pro", "Con", "Judge"]
    assert result.metadata["consensus_reached"] is True
    assert result.final_output == "both"
    assert result.iterations == 2


async def test_socratic_questions_answers_and_synthesis(model):
    questions = iter(
        [
            SocraticQuestion(question="What is learning?"),
            SocraticQuestion(question="Can machines learn?"),
            SocraticQuestion(question="", exploration_complete=True),
        ]
    )

    def questioner(prompt, fmt):
        return next(questions) if fmt is SocraticQuestion else "synthesis"

    m = model(Q=questioner, A=counter("answer"))
    workflow = SocraticWorkflow(
        questioner=make_agent("Q"),
        responder=make_agent("A"),
        config=SocraticConfig(max_exchanges=5, mode="teacher_student"),
    )
    result = await workflow.execute("What is AI?")
    assert m.agents() == ["Q", "A", "Q", "A", "Q", "Q"]
    assert "Question: What is learning?" in m.prompts("A")[0]
    assert "Teacher: What is learning?" in m.prompts("A")[1]
    assert "Student: answer 1" in m.prompts("Q")[1]
    assert result.final_output == "synthesis"
    assert result.iterations == 2
    assert result.metadata["completed_early"] is True


async def test_socratic_stops_at_max_exchanges_without_synthesis(model):
    m = model(Q=lambda p, fmt: SocraticQuestion(question="Why?"), A=counter("because"))
    workflow = SocraticWorkflow(
        questioner=make_agent("Q"),
        responder=make_agent("A"),
        config=SocraticConfig(max_exchanges=2, synthesis_at_end=False),
    )
    result = await workflow.execute("Topic")
    assert m.agents() == ["Q", "A", "Q", "A"]
    assert (
        result.final_output
        == "Questioner: Why?\n\nResponder: because 1\n\nQuestioner: Why?\n\nResponder: because 2"
    )


@pytest.mark.parametrize(
    ("style", "synthesis", "expected"),
    [
        ("extend", False, "w 1\n\ne 1\n\nw 2\n\ne 2"),
        ("refine", False, "e 2"),
        ("challenge", True, "final"),
    ],
)
async def test_round_robin_turns_in_order(model, style, synthesis, expected):
    def writer(prompt, fmt):
        return "final" if "Synthesize" in prompt else writer_counter(prompt, fmt)

    writer_counter = counter("w")
    m = model(W=writer, E=counter("e"))
    workflow = RoundRobinWorkflow(
        agents=[("Writer", make_agent("W")), ("Editor", make_agent("E"))],
        config=RoundRobinConfig(max_rounds=2, contribution_style=style, final_synthesis=synthesis),
    )
    result = await workflow.execute("Write about AI")
    assert m.agents() == ["W", "E", "W", "E"] + (["W"] if synthesis else [])
    assert "Writer: w 1" in m.prompts("E")[0]
    assert "Editor: e 1" in m.prompts("W")[1]
    assert result.final_output == expected
    assert result.iterations == 2


async def test_chat_room_moderator_picks_speakers_until_complete(model):
    decisions = iter(
        [
            ModeratorDecision(next_speaker="Skeptic", comment="Start with the risks."),
            ModeratorDecision(next_speaker="optimist"),
            ModeratorDecision(next_speaker="Skeptic", conversation_complete=True),
        ]
    )

    def moderator(prompt, fmt):
        return next(decisions) if fmt is ModeratorDecision else "final answer"

    m = model(Mod=moderator, Opt=counter("upside"), Skep=counter("risk"))
    workflow = ChatRoomWorkflow(
        participants=[("Optimist", make_agent("Opt")), ("Skeptic", make_agent("Skep"))],
        moderator=make_agent("Mod"),
        config=ChatRoomConfig(max_rounds=10),
    )
    result = await workflow.execute("Four-day week?")
    assert m.agents() == ["Mod", "Skep", "Mod", "Opt", "Mod", "Mod"]
    # one shared conversation: every speaker sees everything said before, comments included
    assert "Moderator: Start with the risks." in m.prompts("Skep")[0]
    assert "Skeptic: risk 1" in m.prompts("Opt")[0]
    assert "Optimist: upside 1" in m.prompts("Mod")[2]
    assert result.final_output == "final answer"
    assert result.iterations == 2
    assert result.metadata["ended_by"] == "moderator"
    assert [t["speaker"] for t in result.metadata["transcript"]] == [
        "Moderator",
        "Skeptic",
        "Optimist",
    ]


async def test_chat_room_round_robin_with_stop_condition(model):
    m = model(A=counter("a"), B=text("DONE"), C=counter("c"))
    config = ChatRoomConfig(
        max_rounds=10,
        stop_condition=lambda log: log[-1]["message"] == "DONE",
        synthesis_rounds=2,
    )
    workflow = ChatRoomWorkflow(
        participants=[("A", make_agent("A")), ("B", make_agent("B")), ("C", make_agent("C"))],
        config=config,
    )
    result = await workflow.execute("Topic")
    # A, B (stop), then two synthesis passes by the first participant
    assert m.agents() == ["A", "B", "A", "A"]
    assert "Draft final answer:\na 2" in m.prompts("A")[2]
    assert result.final_output == "a 3"
    assert result.metadata["ended_by"] == "stop_condition"


async def test_chat_room_max_rounds_is_a_hard_bound(model):
    m = model(A=counter("a"), B=counter("b"))
    workflow = ChatRoomWorkflow(
        participants=[("A", make_agent("A")), ("B", make_agent("B"))],
        config=ChatRoomConfig(max_rounds=3, selection_strategy="random", seed=7),
    )
    result = await workflow.execute("Topic")
    assert len(m.log) == 3 + 1
    assert result.metadata["ended_by"] == "max_rounds"


def test_chat_room_moderator_strategy_needs_a_moderator():
    with pytest.raises(ValueError, match="needs moderator"):
        ChatRoomWorkflow(
            participants=[("A", make_agent("A")), ("B", make_agent("B"))],
            config=ChatRoomConfig(selection_strategy="moderator"),
        )
