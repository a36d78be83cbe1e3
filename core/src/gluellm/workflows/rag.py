"""The rag workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.rag import (
        RAGConfig as RAGConfig,
    )
    from gluellm_plugins_workflows.rag import (
        RAGWorkflow as RAGWorkflow,
    )
    from gluellm_plugins_workflows.rag import (
        Retriever as Retriever,
    )
    from gluellm_plugins_workflows.rag import (
        Verification as Verification,
    )

__all__ = [
    "RAGConfig",
    "RAGWorkflow",
    "Retriever",
    "Verification",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.rag", __all__, "gluellm-plugins-workflows"
)
