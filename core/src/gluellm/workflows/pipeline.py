"""The pipeline workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.pipeline import (
        PipelineWorkflow as PipelineWorkflow,
    )

__all__ = [
    "PipelineWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.pipeline", __all__, "gluellm-plugins-workflows"
)
