"""Agents (``GenericAgent``): provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.agents import (
        GenericAgent as GenericAgent,
    )

__all__ = [
    "GenericAgent",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.agents", __all__, "gluellm-plugins-workflows"
)
