"""Patterns are registered by name through register_workflows; third parties the same way."""

from __future__ import annotations

from gluellm import hookimpl
from gluellm.protocols import Workflow
from gluellm_plugins_workflows import plugin
from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState

from .conftest import make_agent, text

PATTERNS = {
    "iterative",
    "pipeline",
    "debate",
    "reflection",
    "chain_of_density",
    "socratic",
    "rag",
    "round_robin",
    "consensus",
    "hierarchical",
    "map_reduce",
    "react",
    "mixture_of_experts",
    "constitutional",
    "tree_of_thoughts",
    "chat_room",
}


class Echo(BaseWorkflow):
    """One step."""

    pattern = "echo"

    async def _run(self, state: WorkflowState) -> str:
        return await state.step(make_agent("E"), state.input, role="echo")


class ThirdParty:
    @hookimpl
    def register_workflows(self, register):
        register("echo", Echo)


async def test_sixteen_patterns_and_a_third_party_one(plugin_manager, runtime, model):
    plugin_manager.register(plugin, name="workflows")
    plugin_manager.register(ThirdParty(), name="third-party")
    registry = runtime.workflows
    assert set(registry) == PATTERNS | {"echo"}
    for name, cls in registry.items():
        assert issubclass(cls, BaseWorkflow)
        assert cls.pattern == name
    model(E=text("hi"))
    workflow = registry["echo"]()
    assert isinstance(workflow, Workflow)
    result = await workflow.execute("hello")
    assert result.final_output == "hi"
