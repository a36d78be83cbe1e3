"""Multi-agent workflows: provided by gluellm-plugins-workflows.

Import patterns from their modules, as the README does
(``from gluellm.workflows.debate import DebateWorkflow``); the shared pieces are here.
"""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows import (
        BaseWorkflow as BaseWorkflow,
    )
    from gluellm_plugins_workflows import (
        StepEvent as StepEvent,
    )
    from gluellm_plugins_workflows import (
        WorkflowResult as WorkflowResult,
    )
    from gluellm_plugins_workflows import (
        WorkflowState as WorkflowState,
    )

__all__ = [
    "BaseWorkflow",
    "StepEvent",
    "WorkflowResult",
    "WorkflowState",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows", __all__, "gluellm-plugins-workflows"
)
