"""Workflows: a three-stage pipeline of agents, streamed step by step.

Needs gluellm-plugins-workflows.
"""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm.executors import AgentExecutor
    from gluellm.models.agent import Agent
    from gluellm.models.prompt import SystemPrompt
    from gluellm.workflows.pipeline import PipelineWorkflow

    def stage(name: str) -> AgentExecutor:
        prompt = SystemPrompt(content=f"You {name}.")
        return AgentExecutor(Agent(name=name, description=name, system_prompt=prompt))

    workflow = PipelineWorkflow(stages=[(n, stage(n)) for n in ("research", "write", "edit")])
    async for event in workflow.stream("Topic: tea"):
        if event.kind == "step_finished":
            print(f"step {event.step}: {event.agent} ({event.tokens_used} tokens)")
        elif event.kind == "workflow_finished" and event.result is not None:
            print("final:", str(event.result.final_output)[:80])
            print(f"{event.result.model_calls} model calls")
    print("WORKFLOWS OK")


asyncio.run(main())
