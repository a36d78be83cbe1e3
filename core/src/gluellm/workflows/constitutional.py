"""The constitutional workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.constitutional import (
        ConstitutionalConfig as ConstitutionalConfig,
    )
    from gluellm_plugins_workflows.constitutional import (
        ConstitutionalWorkflow as ConstitutionalWorkflow,
    )
    from gluellm_plugins_workflows.constitutional import (
        Principle as Principle,
    )
    from gluellm_plugins_workflows.constitutional import (
        PrincipleCheck as PrincipleCheck,
    )
    from gluellm_plugins_workflows.constitutional import (
        PrincipleReview as PrincipleReview,
    )

__all__ = [
    "ConstitutionalConfig",
    "ConstitutionalWorkflow",
    "Principle",
    "PrincipleCheck",
    "PrincipleReview",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.constitutional", __all__, "gluellm-plugins-workflows"
)
