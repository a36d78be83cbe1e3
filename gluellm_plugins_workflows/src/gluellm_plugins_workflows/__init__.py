"""GlueLLM multi-agent workflows: executors, agents, and 16 patterns.

Import patterns from their modules (``gluellm_plugins_workflows.debate``) or through
the README's paths (``gluellm.workflows.debate``); both name the same classes. The
names below load on first use, so ``gluellm --help`` does not import pydantic models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
    from gluellm_plugins_workflows.events import StepEvent
    from gluellm_plugins_workflows.executors import (
        AgentExecutor,
        Executor,
        SimpleExecutor,
        StructuredExecutor,
    )
    from gluellm_plugins_workflows.result import WorkflowResult

_HOMES = {
    "AgentExecutor": "executors",
    "BaseWorkflow": "base",
    "Executor": "executors",
    "SimpleExecutor": "executors",
    "StepEvent": "events",
    "StructuredExecutor": "executors",
    "WorkflowResult": "result",
    "WorkflowState": "base",
}

__all__ = [
    "AgentExecutor",
    "BaseWorkflow",
    "Executor",
    "SimpleExecutor",
    "StepEvent",
    "StructuredExecutor",
    "WorkflowResult",
    "WorkflowState",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
