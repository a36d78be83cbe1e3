"""The debate workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.debate import (
        ConsensusCheck as ConsensusCheck,
    )
    from gluellm_plugins_workflows.debate import (
        DebateConfig as DebateConfig,
    )
    from gluellm_plugins_workflows.debate import (
        DebateWorkflow as DebateWorkflow,
    )

__all__ = [
    "ConsensusCheck",
    "DebateConfig",
    "DebateWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.debate", __all__, "gluellm-plugins-workflows"
)
