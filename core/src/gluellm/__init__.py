"""GlueLLM: one call runs the whole LLM tool loop.

``import gluellm`` is cheap: names below are loaded on first access, and no provider
SDK is imported until a call needs one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gluellm._markers import hookimpl

if TYPE_CHECKING:
    from gluellm.api import (
        APIConnectionError,
        AuthenticationError,
        Budget,
        BudgetExceededError,
        ConfigurationError,
        EmbeddingResult,
        GlueLLM,
        InvalidRequestError,
        LLMError,
        MaxToolIterationsError,
        RateLimitError,
        StreamChunk,
        StructuredOutputError,
        TokenLimitError,
        ToolExecutionResult,
        complete,
        embed,
        stream_complete,
        stream_structured_complete,
        structured_complete,
        warmup,
    )
    from gluellm.batch import (
        BatchConfig,
        BatchErrorStrategy,
        BatchRequest,
        BatchResponse,
        BatchResult,
        batch_complete,
        batch_complete_simple,
    )
    from gluellm.call import ModelCall, ModelResponse, ToolCallRequest, Transport, Usage
    from gluellm.models.agent import Agent
    from gluellm.models.conversation import Conversation, Message, Role
    from gluellm.models.prompt import SystemPrompt
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, get_runtime, use_runtime
    from gluellm.tools import Tool

__version__ = "0.1.0"

_EXPORTS = {
    "APIConnectionError": "gluellm.api",
    "Agent": "gluellm.models.agent",
    "AuthenticationError": "gluellm.api",
    "Budget": "gluellm.api",
    "BudgetExceededError": "gluellm.api",
    "BatchConfig": "gluellm.batch",
    "BatchErrorStrategy": "gluellm.batch",
    "BatchRequest": "gluellm.batch",
    "BatchResponse": "gluellm.batch",
    "BatchResult": "gluellm.batch",
    "ConfigurationError": "gluellm.api",
    "Conversation": "gluellm.models.conversation",
    "EmbeddingResult": "gluellm.api",
    "GlueLLM": "gluellm.api",
    "InvalidRequestError": "gluellm.api",
    "LLMError": "gluellm.api",
    "MaxToolIterationsError": "gluellm.api",
    "Message": "gluellm.models.conversation",
    "ModelCall": "gluellm.call",
    "ModelResponse": "gluellm.call",
    "RateLimitError": "gluellm.api",
    "Role": "gluellm.models.conversation",
    "Runtime": "gluellm.runtime",
    "StreamChunk": "gluellm.api",
    "StructuredOutputError": "gluellm.api",
    "SystemPrompt": "gluellm.models.prompt",
    "TokenLimitError": "gluellm.api",
    "Tool": "gluellm.tools",
    "ToolCallRequest": "gluellm.call",
    "ToolExecutionResult": "gluellm.api",
    "Transport": "gluellm.call",
    "Usage": "gluellm.call",
    "batch_complete": "gluellm.batch",
    "batch_complete_simple": "gluellm.batch",
    "complete": "gluellm.api",
    "create_plugin_manager": "gluellm.plugins",
    "embed": "gluellm.api",
    "get_runtime": "gluellm.runtime",
    "stream_complete": "gluellm.api",
    "stream_structured_complete": "gluellm.api",
    "structured_complete": "gluellm.api",
    "use_runtime": "gluellm.runtime",
    "warmup": "gluellm.api",
}

__all__ = [
    "APIConnectionError",
    "Agent",
    "AuthenticationError",
    "BatchConfig",
    "BatchErrorStrategy",
    "BatchRequest",
    "BatchResponse",
    "BatchResult",
    "Budget",
    "BudgetExceededError",
    "ConfigurationError",
    "Conversation",
    "EmbeddingResult",
    "GlueLLM",
    "InvalidRequestError",
    "LLMError",
    "MaxToolIterationsError",
    "Message",
    "ModelCall",
    "ModelResponse",
    "RateLimitError",
    "Role",
    "Runtime",
    "StreamChunk",
    "StructuredOutputError",
    "SystemPrompt",
    "TokenLimitError",
    "Tool",
    "ToolCallRequest",
    "ToolExecutionResult",
    "Transport",
    "Usage",
    "__version__",
    "batch_complete",
    "batch_complete_simple",
    "complete",
    "create_plugin_manager",
    "embed",
    "get_runtime",
    "hookimpl",
    "stream_complete",
    "stream_structured_complete",
    "structured_complete",
    "use_runtime",
    "warmup",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gluellm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
