"""Executors (``SimpleExecutor``, ``AgentExecutor``): provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.executors import (
        AgentExecutor as AgentExecutor,
    )
    from gluellm_plugins_workflows.executors import (
        Executor as Executor,
    )
    from gluellm_plugins_workflows.executors import (
        SimpleExecutor as SimpleExecutor,
    )
    from gluellm_plugins_workflows.executors import (
        StructuredExecutor as StructuredExecutor,
    )

__all__ = [
    "AgentExecutor",
    "Executor",
    "SimpleExecutor",
    "StructuredExecutor",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.executors", __all__, "gluellm-plugins-workflows"
)
