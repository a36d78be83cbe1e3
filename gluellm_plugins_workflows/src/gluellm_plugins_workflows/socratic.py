"""Socratic dialogue: a questioner asks, a responder answers, until done; then a synthesis.

Cost: two calls per exchange (the question is a `SocraticQuestion` decision, so the
questioner can end early), at most ``max_exchanges`` exchanges, plus one synthesis.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import SocraticConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import transcript

__all__ = ["SocraticConfig", "SocraticQuestion", "SocraticWorkflow"]


class SocraticQuestion(BaseModel):
    """The questioner's next move."""

    question: str = Field(description="The next question; empty when the topic is explored.")
    exploration_complete: bool = Field(
        default=False, description="True when further questions would add nothing."
    )


_ROLES = {
    "teacher_student": ("Teacher", "Student"),
    "peer": ("Questioner", "Responder"),
}


def question_prompt(topic: str, mode: str, dialogue: str) -> str:
    """What the questioner is asked each exchange."""
    stance = (
        "As a teacher, ask one probing question that leads the student to deeper understanding."
        if mode == "teacher_student"
        else "As a curious peer, ask one probing question that tests an assumption or implication."
    )
    so_far = f"Dialogue so far:\n{dialogue}\n\n" if dialogue else ""
    return (
        f"Topic: {topic}\n\n{so_far}{stance} If the topic has been explored well enough, "
        "set exploration_complete."
    )


def answer_prompt(topic: str, dialogue: str, question: str) -> str:
    """What the responder is asked."""
    so_far = f"Dialogue so far:\n{dialogue}\n\n" if dialogue else ""
    return f"Topic: {topic}\n\n{so_far}Question: {question}\n\nAnswer thoughtfully and honestly."


def synthesis_prompt(topic: str, dialogue: str) -> str:
    """What the questioner is asked at the end."""
    return (
        f"Topic: {topic}\n\nDialogue:\n{dialogue}\n\n"
        "Synthesize what this dialogue established: the key insights, in a coherent answer."
    )


class SocraticWorkflow(BaseWorkflow):
    """Question-and-answer exploration of a topic.

    Args:
        questioner: Asks (and writes the synthesis).
        responder: Answers.
        config: Exchanges, mode and synthesis.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "socratic"

    def __init__(
        self,
        questioner: Executor,
        responder: Executor,
        config: SocraticConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.questioner = questioner
        self.responder = responder
        self.config = config or SocraticConfig()

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        asker, answerer = _ROLES[config.mode]
        turns: list[tuple[str, str]] = []
        state.metadata["completed_early"] = False
        for exchange in range(1, config.max_exchanges + 1):
            move = await state.decide(
                self.questioner,
                question_prompt(state.input, config.mode, transcript(turns)),
                SocraticQuestion,
                role="questioner",
                fallback=lambda raw: SocraticQuestion(question=raw or ""),
                exchange=exchange,
            )
            if move.exploration_complete or not move.question.strip():
                state.metadata["completed_early"] = True
                break
            answer = await state.step(
                self.responder,
                answer_prompt(state.input, transcript(turns), move.question),
                role="responder",
                exchange=exchange,
            )
            turns += [(asker, move.question), (answerer, answer)]
            state.output = answer
            state.iterations = exchange
        if not turns:  # the questioner had nothing to ask: answer the topic directly
            return await state.step(self.responder, state.input, role="responder")
        dialogue = transcript(turns)
        state.metadata["dialogue"] = [{"speaker": s, "text": t} for s, t in turns]
        if config.synthesis_at_end:
            return await state.step(
                self.questioner, synthesis_prompt(state.input, dialogue), role="synthesis"
            )
        return dialogue
