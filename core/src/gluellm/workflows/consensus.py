"""The consensus workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.consensus import (
        ConsensusConfig as ConsensusConfig,
    )
    from gluellm_plugins_workflows.consensus import (
        ConsensusWorkflow as ConsensusWorkflow,
    )
    from gluellm_plugins_workflows.consensus import (
        Vote as Vote,
    )
    from gluellm_plugins_workflows.consensus import (
        tally as tally,
    )

__all__ = [
    "ConsensusConfig",
    "ConsensusWorkflow",
    "Vote",
    "tally",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.consensus", __all__, "gluellm-plugins-workflows"
)
