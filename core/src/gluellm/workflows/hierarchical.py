"""The hierarchical workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.hierarchical import (
        HierarchicalConfig as HierarchicalConfig,
    )
    from gluellm_plugins_workflows.hierarchical import (
        HierarchicalWorkflow as HierarchicalWorkflow,
    )
    from gluellm_plugins_workflows.hierarchical import (
        Subtask as Subtask,
    )
    from gluellm_plugins_workflows.hierarchical import (
        TaskPlan as TaskPlan,
    )

__all__ = [
    "HierarchicalConfig",
    "HierarchicalWorkflow",
    "Subtask",
    "TaskPlan",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.hierarchical", __all__, "gluellm-plugins-workflows"
)
