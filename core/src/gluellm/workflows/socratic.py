"""The socratic workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.socratic import (
        SocraticConfig as SocraticConfig,
    )
    from gluellm_plugins_workflows.socratic import (
        SocraticQuestion as SocraticQuestion,
    )
    from gluellm_plugins_workflows.socratic import (
        SocraticWorkflow as SocraticWorkflow,
    )

__all__ = [
    "SocraticConfig",
    "SocraticQuestion",
    "SocraticWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.socratic", __all__, "gluellm-plugins-workflows"
)
