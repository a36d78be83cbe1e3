"""Chat room: agents share one conversation; a moderator (or a strategy) picks who speaks.

Cost per turn: one speaker call, plus one moderator call (a `ModeratorDecision`) with
``selection_strategy="moderator"``; at most ``max_rounds`` turns; then
``synthesis_rounds`` calls for the final answer (by the moderator, else the first
participant). The conversation ends when the moderator says it is complete, when
``stop_condition(transcript)`` returns True, or after ``max_rounds`` turns.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.costs import Budget
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ChatRoomConfig
from gluellm_plugins_workflows.executors import Executor
from gluellm_plugins_workflows.text import transcript

__all__ = ["ChatRoomConfig", "ChatRoomWorkflow", "ModeratorDecision"]


class ModeratorDecision(BaseModel):
    """The moderator's call before each turn."""

    next_speaker: str = Field(description="Name of the participant who should speak next.")
    conversation_complete: bool = Field(
        default=False, description="True when the question has been answered well enough."
    )
    comment: str = Field(default="", description="Optional guidance for the participants.")


def moderator_prompt(topic: str, names: list[str], conversation: str) -> str:
    """What the moderator is asked before each turn."""
    so_far = conversation or "(nobody has spoken yet)"
    return (
        f"You moderate a discussion about: {topic}\n\nParticipants: {', '.join(names)}\n\n"
        f"Conversation so far:\n{so_far}\n\nChoose who speaks next, or declare the "
        "conversation complete if the topic has been resolved. You may add a short comment "
        "to guide the discussion."
    )


def speaker_prompt(topic: str, name: str, conversation: str) -> str:
    """What the chosen participant is asked."""
    so_far = conversation or "(you speak first)"
    return (
        f"You are {name} in a group discussion about: {topic}\n\nConversation so far:\n"
        f"{so_far}\n\nAdd your next message to the conversation."
    )


def synthesis_prompt(topic: str, conversation: str, draft: str | None) -> str:
    """What the synthesizer is asked at the end."""
    if draft is None:
        return (
            f"Discussion topic: {topic}\n\nConversation:\n{conversation}\n\n"
            "Write the group's final answer, drawing on the whole conversation."
        )
    return (
        f"Discussion topic: {topic}\n\nConversation:\n{conversation}\n\nDraft final answer:\n"
        f"{draft}\n\nImprove the draft so it reflects the conversation fully and accurately."
    )


class ChatRoomWorkflow(BaseWorkflow):
    """A shared conversation with speaker selection and a stop condition.

    Args:
        participants: ``(name, executor)`` pairs.
        moderator: Picks speakers, may interject, writes the synthesis.
        config: Turn bound, selection strategy, stop condition, synthesis passes.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "chat_room"

    def __init__(
        self,
        participants: Sequence[tuple[str, Executor]],
        moderator: Executor | None = None,
        config: ChatRoomConfig | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        if len(participants) < 2:
            raise ValueError("ChatRoomWorkflow needs at least two (name, executor) participants.")
        self.participants = list(participants)
        self.moderator = moderator
        self.config = config or ChatRoomConfig()
        self.strategy = self.config.selection_strategy or (
            "moderator" if moderator else "round_robin"
        )
        if self.strategy == "moderator" and moderator is None:
            raise ValueError(
                'selection_strategy="moderator" needs moderator=...; or choose "round_robin".'
            )

    async def _next_speaker(
        self, state: WorkflowState, turn: int, turns: list[tuple[str, str]], rng: random.Random
    ) -> tuple[str, Executor] | None:
        names = [name for name, _ in self.participants]
        if self.strategy == "round_robin":
            return self.participants[(turn - 1) % len(self.participants)]
        if self.strategy == "random":
            return rng.choice(self.participants)
        assert self.moderator is not None
        decision = await state.decide(
            self.moderator,
            moderator_prompt(state.input, names, transcript(turns)),
            ModeratorDecision,
            role="moderator",
            fallback=lambda raw: ModeratorDecision(next_speaker=""),
            turn=turn,
        )
        if decision.conversation_complete and turns:
            state.metadata["ended_by"] = "moderator"
            return None
        if self.config.allow_moderator_interjection and decision.comment.strip():
            turns.append(("Moderator", decision.comment.strip()))
        by_name = {name.casefold(): (name, ex) for name, ex in self.participants}
        chosen = by_name.get(decision.next_speaker.strip().casefold())
        if chosen is None:
            state.metadata.setdefault("selection_fallbacks", []).append(
                {"turn": turn, "asked_for": decision.next_speaker}
            )
            chosen = self.participants[(turn - 1) % len(self.participants)]
        return chosen

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        rng = random.Random(config.seed)
        turns: list[tuple[str, str]] = []
        state.metadata.update(selection_strategy=self.strategy, ended_by="max_rounds")
        for turn in range(1, config.max_rounds + 1):
            speaker = await self._next_speaker(state, turn, turns, rng)
            if speaker is None:
                break
            name, executor = speaker
            message = await state.step(
                executor,
                speaker_prompt(state.input, name, transcript(turns)),
                role="participant",
                agent=name,
                turn=turn,
            )
            turns.append((name, message))
            state.output = message
            state.iterations = turn
            log = [{"speaker": s, "message": m} for s, m in turns]
            if config.stop_condition is not None and config.stop_condition(log):
                state.metadata["ended_by"] = "stop_condition"
                break
        state.metadata["transcript"] = [{"speaker": s, "message": m} for s, m in turns]
        conversation = transcript(turns)
        synthesizer = self.moderator or self.participants[0][1]
        draft: str | None = None
        for _ in range(config.synthesis_rounds):
            draft = await state.step(
                synthesizer, synthesis_prompt(state.input, conversation, draft), role="synthesis"
            )
            state.output = draft
        return draft or conversation
