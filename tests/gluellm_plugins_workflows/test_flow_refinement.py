"""Message flows of the refining patterns (iterative, reflection, density, constitutional)."""

from __future__ import annotations

from gluellm_plugins_workflows.chain_of_density import ChainOfDensityWorkflow
from gluellm_plugins_workflows.config import (
    ChainOfDensityConfig,
    ConstitutionalConfig,
    CriticConfig,
    IterativeConfig,
    Principle,
    ReflectionConfig,
)
from gluellm_plugins_workflows.constitutional import (
    ConstitutionalWorkflow,
    PrincipleCheck,
    PrincipleReview,
)
from gluellm_plugins_workflows.iterative import CriticFeedback, IterativeRefinementWorkflow
from gluellm_plugins_workflows.reflection import Reflection, ReflectionWorkflow

from .conftest import counter, make_agent


def critic(name: str, scores: list[float]):
    calls = iter(scores)

    def answer(prompt, fmt):
        assert fmt is CriticFeedback
        return CriticFeedback(feedback=f"{name} note", score=next(calls))

    return answer


def iterative(config: IterativeConfig) -> IterativeRefinementWorkflow:
    return IterativeRefinementWorkflow(
        producer=make_agent("Writer"),
        critics=[
            CriticConfig(executor=make_agent("Grammar"), specialty="grammar", goal="clarity"),
            CriticConfig(
                executor=make_agent("Style"), specialty="style", goal="engagement", weight=3.0
            ),
        ],
        config=config,
    )


async def test_iterative_producer_then_both_critics_each_iteration(model):
    m = model(
        Writer=counter("draft"),
        Grammar=critic("Grammar", [0.2, 0.4, 0.6]),
        Style=critic("Style", [0.2, 0.4, 0.6]),
    )
    result = await iterative(IterativeConfig(max_iterations=3)).execute("Write about asyncio")

    agents = m.agents()
    assert len(agents) == 9
    for start in (0, 3, 6):
        assert agents[start] == "Writer"
        assert sorted(agents[start + 1 : start + 3]) == ["Grammar", "Style"]
    writer = m.prompts("Writer")
    assert writer[0] == "Write about asyncio"
    assert "draft 1" in writer[1]
    assert "Grammar note" in writer[1]
    assert "Style note" in writer[1]
    assert "draft 2" in m.prompts("Grammar")[1]
    assert "grammar" in m.prompts("Grammar")[1]
    assert result.final_output == "draft 3"
    assert result.iterations == 3
    assert result.metadata["converged"] is False
    assert result.metadata["quality_scores"] == [0.2, 0.4, 0.6]
    assert result.model_calls == 9
    assert result.tokens_used == {"prompt": 90, "completion": 45, "total": 135}
    assert [i["role"] for i in result.agent_interactions[:3]] == ["producer", "critic", "critic"]


async def test_iterative_stops_at_min_quality_with_weighted_scores(model):
    # weighted mean after iteration 2: (1 * 0.5 + 3 * 0.9) / 4 = 0.8
    m = model(
        Writer=counter("draft"),
        Grammar=critic("Grammar", [0.1, 0.5]),
        Style=critic("Style", [0.1, 0.9]),
    )
    result = await iterative(IterativeConfig(max_iterations=5, min_quality_score=0.8)).execute(
        "Write"
    )
    assert len(m.log) == 6
    assert result.iterations == 2
    assert result.metadata["converged"] is True
    assert result.metadata["final_quality_score"] == 0.8


async def test_iterative_custom_evaluator_and_convergence(model):
    seen = []

    def evaluator(content, feedback):
        seen.append((content, dict(feedback)))
        return 0.5

    m = model(
        Writer=counter("draft"),
        Grammar=critic("Grammar", [0.0] * 5),
        Style=critic("Style", [0.0] * 5),
    )
    config = IterativeConfig(
        max_iterations=5, convergence_threshold=0.01, quality_evaluator=evaluator
    )
    result = await iterative(config).execute("Write")
    assert len(m.log) == 6  # the score did not move between iterations 1 and 2
    assert seen[0] == ("draft 1", {"grammar": "Grammar note", "style": "Style note"})
    assert result.metadata["converged_because"] == "convergence_threshold"


async def test_reflection_generate_critique_improve_until_satisfied(model):
    verdicts = iter(
        [
            Reflection(critique="too short", score=0.3, satisfactory=False),
            Reflection(critique="fine now", score=0.9, satisfactory=True),
        ]
    )
    m = model(Gen=counter("version"), Critic=lambda p, fmt: next(verdicts))
    workflow = ReflectionWorkflow(
        generator=make_agent("Gen"),
        reflector=make_agent("Critic"),
        config=ReflectionConfig(max_reflections=3),
    )
    result = await workflow.execute("Write an article about Python")
    assert m.agents() == ["Gen", "Critic", "Gen", "Critic"]
    assert "version 1" in m.prompts("Critic")[0]
    assert "too short" in m.prompts("Gen")[1]
    assert "version 1" in m.prompts("Gen")[1]
    assert result.final_output == "version 2"
    assert result.iterations == 2
    assert result.metadata["stopped_early"] is True


async def test_reflection_defaults_to_self_critique_and_runs_all_rounds(model):
    def gen(prompt, fmt):
        if fmt is Reflection:
            return Reflection(critique="more", score=0.1, satisfactory=False)
        return "text"

    m = model(Gen=gen)
    template = "Judge {content} for: {task} {unknown}"
    workflow = ReflectionWorkflow(
        generator=make_agent("Gen"),
        config=ReflectionConfig(max_reflections=2, reflection_prompt_template=template),
    )
    result = await workflow.execute("the task")
    assert len(m.log) == 1 + 2 * 2
    assert [fmt for _, _, fmt in m.log] == [None, Reflection, None, Reflection, None]
    assert m.log[1][1] == "Judge text for: the task "
    assert result.iterations == 2


async def test_chain_of_density_one_call_per_version_each_building_on_the_last(model):
    m = model(Gen=counter("summary"))
    workflow = ChainOfDensityWorkflow(
        generator=make_agent("Gen"),
        config=ChainOfDensityConfig(num_iterations=4, density_increment="examples"),
    )
    result = await workflow.execute("Summarize this article")
    prompts = m.prompts("Gen")
    assert len(prompts) == 4
    assert prompts[0] == "Summarize this article"
    for index in (1, 2, 3):
        assert f"summary {index}" in prompts[index]
        assert "examples" in prompts[index]
        assert "same length" in prompts[index]
    assert result.final_output == "summary 4"
    assert result.metadata["versions"] == ["summary 1", "summary 2", "summary 3", "summary 4"]


PRINCIPLES = [
    Principle(name="harmless", description="No harm", severity="critical"),
    Principle(name="helpful", description="Be helpful", severity="error"),
    Principle(name="brief", description="Be brief", severity="warning"),
]


def review(*failing: str) -> PrincipleReview:
    return PrincipleReview(
        checks=[
            PrincipleCheck(principle=p.name, passed=p.name not in failing, issue=f"{p.name} issue")
            for p in PRINCIPLES
        ]
    )


async def test_constitutional_revises_until_every_principle_passes(model):
    reviews = iter([review("helpful", "harmless"), review("brief"), review()])
    m = model(Gen=counter("answer"), Critic=lambda p, fmt: next(reviews))
    workflow = ConstitutionalWorkflow(
        generator=make_agent("Gen"),
        critic=make_agent("Critic"),
        config=ConstitutionalConfig(principles=PRINCIPLES, max_revisions=3),
    )
    result = await workflow.execute("Write about AI safety")
    assert m.agents() == ["Gen", "Critic", "Gen", "Critic", "Gen", "Critic"]
    first_revision = m.prompts("Gen")[1]
    # most severe first
    assert first_revision.index("harmless") < first_revision.index("helpful issue")
    assert "brief issue" in m.prompts("Gen")[2]
    assert result.final_output == "answer 3"
    assert result.metadata["passed"] is True
    assert result.metadata["revisions"] == 2


async def test_constitutional_without_require_all_pass_ignores_non_critical(model):
    m = model(Gen=counter("answer"), Critic=lambda p, fmt: review("helpful", "brief"))
    workflow = ConstitutionalWorkflow(
        generator=make_agent("Gen"),
        critic=make_agent("Critic"),
        config=ConstitutionalConfig(principles=PRINCIPLES, require_all_pass=False),
    )
    result = await workflow.execute("Write")
    assert m.agents() == ["Gen", "Critic"]
    assert result.metadata["passed"] is True
    assert {v["principle"] for v in result.metadata["violations"]} == {"helpful", "brief"}


async def test_constitutional_stops_at_max_revisions(model):
    m = model(Gen=counter("answer"), Critic=lambda p, fmt: review("harmless"))
    workflow = ConstitutionalWorkflow(
        generator=make_agent("Gen"),
        critic=make_agent("Critic"),
        config=ConstitutionalConfig(principles=PRINCIPLES, max_revisions=2),
    )
    result = await workflow.execute("Write")
    assert len(m.log) == 2 + 2 * 2
    assert result.metadata["passed"] is False
    assert result.final_output == "answer 3"
