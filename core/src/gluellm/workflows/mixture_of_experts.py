"""The mixture of experts workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.mixture_of_experts import (
        BestAnswer as BestAnswer,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        ExpertConfig as ExpertConfig,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        ExpertScore as ExpertScore,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        ExpertScores as ExpertScores,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        ExpertSelection as ExpertSelection,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        MixtureOfExpertsWorkflow as MixtureOfExpertsWorkflow,
    )
    from gluellm_plugins_workflows.mixture_of_experts import (
        MoEConfig as MoEConfig,
    )

__all__ = [
    "BestAnswer",
    "ExpertConfig",
    "ExpertScore",
    "ExpertScores",
    "ExpertSelection",
    "MixtureOfExpertsWorkflow",
    "MoEConfig",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.mixture_of_experts", __all__, "gluellm-plugins-workflows"
)
