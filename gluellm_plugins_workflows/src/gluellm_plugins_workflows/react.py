"""ReAct: the reasoner thinks and picks an action (a `ReActStep` decision); the workflow runs it.

Cost: one reasoner call per step, at most ``max_steps``. Tools run between steps (through
``wrap_tool`` middleware, errors reported back as observations) and cost no model call.
Tools come from ``tools=`` or, by default, from the reasoner's agent or executor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from gluellm.call import ToolCallRequest
from gluellm.costs import Budget
from gluellm.runs import current_run
from gluellm.tools import Tool, execute_tool_call
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.config import ReActConfig
from gluellm_plugins_workflows.executors import Executor

__all__ = ["ReActConfig", "ReActStep", "ReActWorkflow"]


class ReActStep(BaseModel):
    """One reasoning step: a thought, then an action or a final answer."""

    thought: str = Field(description="Your reasoning about what to do next.")
    action: str | None = Field(default=None, description="The tool to call, or null.")
    action_input: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments.")
    final_answer: str | None = Field(default=None, description="The answer, once you know it.")


def step_prompt(question: str, tools: Sequence[Tool], scratchpad: str) -> str:
    """What the reasoner is asked each step."""
    listing = "\n".join(
        f"- {t.name}: {t.description} (arguments: {json.dumps(t.parameters)})" for t in tools
    )
    available = f"Tools you can use:\n{listing}" if tools else "No tools are available."
    so_far = f"\n\nYour steps so far:\n{scratchpad}" if scratchpad else ""
    return (
        f"Question: {question}\n\n{available}{so_far}\n\n"
        "Think about the next step. Either choose one tool action with its arguments, or, "
        "when you know the answer, give the final answer."
    )


def _tools_of(executor: Executor) -> list[Callable[..., Any]]:
    tools = getattr(executor, "tools", None)
    return list(tools) if isinstance(tools, list) else []


class ReActWorkflow(BaseWorkflow):
    """Interleaved thought, action and observation until a final answer.

    Args:
        reasoner: Thinks and chooses actions.
        config: Step bound, prefixes and final-answer handling.
        tools: The tools actions may call; by default the reasoner's own.
        budget: Spending limit for the whole workflow.
        eval_store: Where eval plugins record the workflow.
    """

    pattern = "react"

    def __init__(
        self,
        reasoner: Executor,
        config: ReActConfig | None = None,
        tools: Sequence[Callable[..., Any]] | None = None,
        *,
        budget: Budget | None = None,
        eval_store: Any = None,
    ) -> None:
        super().__init__(budget=budget, eval_store=eval_store)
        self.reasoner = reasoner
        self.config = config or ReActConfig()
        functions = list(tools) if tools is not None else _tools_of(reasoner)
        self.tools = {tool.name: tool for tool in map(Tool.from_function, functions)}

    async def _act(self, state: WorkflowState, decision: ReActStep, index: int) -> str:
        name = decision.action or ""
        request = ToolCallRequest(
            id=f"react_{index}", name=name, arguments=json.dumps(decision.action_input)
        )

        async def work() -> str:
            run = current_run()
            execution = await execute_tool_call(
                request,
                self.tools,
                run.correlation_id if run else None,
                runtime=run.runtime if run else None,
                run=run,
            )
            return str(execution.result)

        return await state.run_step(
            name, "action", request.arguments, work, lambda text: text, {"react_step": index}
        )

    async def _run(self, state: WorkflowState) -> str:
        config = self.config
        lines: list[str] = []
        answers: list[str] = []
        tools = list(self.tools.values())
        state.metadata.update(final_answer_found=False, actions=[])
        for index in range(1, config.max_steps + 1):
            decision = await state.decide(
                self.reasoner,
                step_prompt(state.input, tools, "\n".join(lines)),
                ReActStep,
                role="reasoner",
                use_tools=False,
                fallback=lambda raw: _fallback_step(raw),
                react_step=index,
            )
            state.iterations = index
            lines.append(f"{config.thought_prefix} {decision.thought}")
            if decision.final_answer:
                answers.append(decision.final_answer)
                state.output = decision.final_answer
                state.metadata["final_answer_found"] = True
                if config.stop_on_final_answer:
                    break
                lines.append(f"Final answer so far: {decision.final_answer}")
                continue
            if decision.action:
                lines.append(
                    f"{config.action_prefix} {decision.action}({json.dumps(decision.action_input)})"
                )
                observation = await self._act(state, decision, index)
                state.metadata["actions"].append(
                    {
                        "tool": decision.action,
                        "input": decision.action_input,
                        "observation": observation,
                    }
                )
                lines.append(f"{config.observation_prefix} {observation}")
        state.metadata["scratchpad"] = lines
        if answers:
            return answers[-1]
        state.metadata["stop_because"] = "max_steps"
        return lines[-1] if lines else ""


def _fallback_step(raw: str | None) -> ReActStep:
    """A reasoner that cannot answer in shape: its text is taken as the final answer."""
    text = (raw or "").strip()
    marker = "final answer:"
    found = text.lower().rfind(marker)
    answer = text[found + len(marker) :].strip() if found != -1 else text
    return ReActStep(thought=text, final_answer=answer or None)
