"""The chain of density workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.chain_of_density import (
        ChainOfDensityConfig as ChainOfDensityConfig,
    )
    from gluellm_plugins_workflows.chain_of_density import (
        ChainOfDensityWorkflow as ChainOfDensityWorkflow,
    )

__all__ = [
    "ChainOfDensityConfig",
    "ChainOfDensityWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.chain_of_density", __all__, "gluellm-plugins-workflows"
)
