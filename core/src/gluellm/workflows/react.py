"""The react workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.react import (
        ReActConfig as ReActConfig,
    )
    from gluellm_plugins_workflows.react import (
        ReActStep as ReActStep,
    )
    from gluellm_plugins_workflows.react import (
        ReActWorkflow as ReActWorkflow,
    )

__all__ = [
    "ReActConfig",
    "ReActStep",
    "ReActWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.react", __all__, "gluellm-plugins-workflows"
)
