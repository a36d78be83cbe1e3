"""The map reduce workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.map_reduce import (
        MapReduceConfig as MapReduceConfig,
    )
    from gluellm_plugins_workflows.map_reduce import (
        MapReduceWorkflow as MapReduceWorkflow,
    )
    from gluellm_plugins_workflows.map_reduce import (
        split_into_chunks as split_into_chunks,
    )

__all__ = [
    "MapReduceConfig",
    "MapReduceWorkflow",
    "split_into_chunks",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.map_reduce", __all__, "gluellm-plugins-workflows"
)
