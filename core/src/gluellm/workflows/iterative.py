"""The iterative workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.iterative import (
        CriticConfig as CriticConfig,
    )
    from gluellm_plugins_workflows.iterative import (
        CriticFeedback as CriticFeedback,
    )
    from gluellm_plugins_workflows.iterative import (
        IterativeConfig as IterativeConfig,
    )
    from gluellm_plugins_workflows.iterative import (
        IterativeRefinementWorkflow as IterativeRefinementWorkflow,
    )

__all__ = [
    "CriticConfig",
    "CriticFeedback",
    "IterativeConfig",
    "IterativeRefinementWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.iterative", __all__, "gluellm-plugins-workflows"
)
