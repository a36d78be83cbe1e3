"""The reflection workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.reflection import (
        Reflection as Reflection,
    )
    from gluellm_plugins_workflows.reflection import (
        ReflectionConfig as ReflectionConfig,
    )
    from gluellm_plugins_workflows.reflection import (
        ReflectionWorkflow as ReflectionWorkflow,
    )

__all__ = [
    "Reflection",
    "ReflectionConfig",
    "ReflectionWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.reflection", __all__, "gluellm-plugins-workflows"
)
