"""The round robin workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.round_robin import (
        RoundRobinConfig as RoundRobinConfig,
    )
    from gluellm_plugins_workflows.round_robin import (
        RoundRobinWorkflow as RoundRobinWorkflow,
    )

__all__ = [
    "RoundRobinConfig",
    "RoundRobinWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.round_robin", __all__, "gluellm-plugins-workflows"
)
