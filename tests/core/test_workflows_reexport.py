"""The spec's workflow import paths: lazy re-exports that name the plugin when it is missing."""

from __future__ import annotations

import importlib
import sys

import pytest

SPEC_IMPORTS = {
    "gluellm.workflows.iterative": ["IterativeRefinementWorkflow"],
    "gluellm.workflows.pipeline": ["PipelineWorkflow"],
    "gluellm.workflows.debate": ["DebateWorkflow", "DebateConfig"],
    "gluellm.workflows.reflection": ["ReflectionWorkflow", "ReflectionConfig"],
    "gluellm.workflows.chain_of_density": ["ChainOfDensityWorkflow", "ChainOfDensityConfig"],
    "gluellm.workflows.socratic": ["SocraticWorkflow", "SocraticConfig"],
    "gluellm.workflows.rag": ["RAGWorkflow", "RAGConfig"],
    "gluellm.workflows.round_robin": ["RoundRobinWorkflow", "RoundRobinConfig"],
    "gluellm.workflows.consensus": ["ConsensusWorkflow", "ConsensusConfig"],
    "gluellm.workflows.hierarchical": ["HierarchicalWorkflow", "HierarchicalConfig"],
    "gluellm.workflows.map_reduce": ["MapReduceWorkflow", "MapReduceConfig"],
    "gluellm.workflows.react": ["ReActWorkflow", "ReActConfig"],
    "gluellm.workflows.mixture_of_experts": [
        "MixtureOfExpertsWorkflow",
        "ExpertConfig",
        "MoEConfig",
    ],
    "gluellm.workflows.constitutional": [
        "ConstitutionalWorkflow",
        "ConstitutionalConfig",
        "Principle",
    ],
    "gluellm.workflows.tree_of_thoughts": ["TreeOfThoughtsWorkflow", "TreeOfThoughtsConfig"],
    "gluellm.workflows.chat_room": ["ChatRoomWorkflow", "ChatRoomConfig"],
    "gluellm.models.workflow": ["IterativeConfig", "CriticConfig", "DebateConfig"],
    "gluellm.executors": ["SimpleExecutor", "AgentExecutor", "Executor"],
    "gluellm.agents.generic": ["GenericAgent"],
    "gluellm.agents": ["GenericAgent"],
    "gluellm.workflows": ["WorkflowResult", "StepEvent", "BaseWorkflow"],
}


@pytest.mark.parametrize("module_name", sorted(SPEC_IMPORTS))
def test_spec_paths_name_the_plugins_objects(module_name):
    pytest.importorskip("gluellm_plugins_workflows")
    module = importlib.import_module(module_name)
    for name in SPEC_IMPORTS[module_name]:
        value = getattr(module, name)
        assert value.__module__.startswith("gluellm_plugins_workflows")
        assert name in dir(module)


@pytest.mark.parametrize(
    ("module_name", "target"),
    [
        ("gluellm.executors", "gluellm_plugins_workflows.executors"),
        ("gluellm.workflows.debate", "gluellm_plugins_workflows.debate"),
        ("gluellm.models.workflow", "gluellm_plugins_workflows.config"),
    ],
)
def test_a_missing_plugin_is_named_with_the_install_command(monkeypatch, module_name, target):
    module = importlib.import_module(module_name)
    name = module.__all__[0]
    monkeypatch.setitem(sys.modules, target, None)  # as if the plugin were not installed
    with pytest.raises(ImportError, match="pip install gluellm-plugins-workflows"):
        getattr(module, name)


def test_unknown_names_are_attribute_errors():
    module = importlib.import_module("gluellm.executors")
    with pytest.raises(AttributeError, match="NoSuchExecutor"):
        module.NoSuchExecutor  # noqa: B018


def test_reexport_lets_errors_inside_the_plugin_through(monkeypatch):
    from gluellm._lazy import reexport

    getter, _ = reexport("m", "gluellm._no_such_module_xyz", ["X"], "dist")
    with pytest.raises(ImportError, match="pip install dist"):
        getter("X")
    # a missing dependency *of* an installed plugin is not "the plugin is missing"
    monkeypatch.setitem(sys.modules, "json", None)
    getter, _ = reexport("m", "gluellm.testing", ["reply"], "dist")
    monkeypatch.delitem(sys.modules, "gluellm.testing", raising=False)
    with pytest.raises(ImportError) as raised:
        getter("reply")
    assert "pip install dist" not in str(raised.value)
