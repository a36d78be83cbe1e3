"""GlueLLM multi-agent workflows: executors, agents, and 16 patterns.

Import patterns from their modules (``gluellm_plugins_workflows.debate``) or through
the spec's paths (``gluellm.workflows.debate``); both name the same classes.
"""

from __future__ import annotations

from gluellm_plugins_workflows.base import BaseWorkflow, WorkflowState
from gluellm_plugins_workflows.events import StepEvent
from gluellm_plugins_workflows.executors import (
    AgentExecutor,
    Executor,
    SimpleExecutor,
    StructuredExecutor,
)
from gluellm_plugins_workflows.result import WorkflowResult

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
