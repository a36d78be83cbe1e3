"""Workflow configuration models: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.config import (
        ChainOfDensityConfig as ChainOfDensityConfig,
    )
    from gluellm_plugins_workflows.config import (
        ChatRoomConfig as ChatRoomConfig,
    )
    from gluellm_plugins_workflows.config import (
        ConsensusConfig as ConsensusConfig,
    )
    from gluellm_plugins_workflows.config import (
        ConstitutionalConfig as ConstitutionalConfig,
    )
    from gluellm_plugins_workflows.config import (
        CriticConfig as CriticConfig,
    )
    from gluellm_plugins_workflows.config import (
        DebateConfig as DebateConfig,
    )
    from gluellm_plugins_workflows.config import (
        ExpertConfig as ExpertConfig,
    )
    from gluellm_plugins_workflows.config import (
        HierarchicalConfig as HierarchicalConfig,
    )
    from gluellm_plugins_workflows.config import (
        IterativeConfig as IterativeConfig,
    )
    from gluellm_plugins_workflows.config import (
        MapReduceConfig as MapReduceConfig,
    )
    from gluellm_plugins_workflows.config import (
        MoEConfig as MoEConfig,
    )
    from gluellm_plugins_workflows.config import (
        Principle as Principle,
    )
    from gluellm_plugins_workflows.config import (
        RAGConfig as RAGConfig,
    )
    from gluellm_plugins_workflows.config import (
        ReActConfig as ReActConfig,
    )
    from gluellm_plugins_workflows.config import (
        ReflectionConfig as ReflectionConfig,
    )
    from gluellm_plugins_workflows.config import (
        RoundRobinConfig as RoundRobinConfig,
    )
    from gluellm_plugins_workflows.config import (
        SocraticConfig as SocraticConfig,
    )
    from gluellm_plugins_workflows.config import (
        TreeOfThoughtsConfig as TreeOfThoughtsConfig,
    )

__all__ = [
    "ChainOfDensityConfig",
    "ChatRoomConfig",
    "ConsensusConfig",
    "ConstitutionalConfig",
    "CriticConfig",
    "DebateConfig",
    "ExpertConfig",
    "HierarchicalConfig",
    "IterativeConfig",
    "MapReduceConfig",
    "MoEConfig",
    "Principle",
    "RAGConfig",
    "ReActConfig",
    "ReflectionConfig",
    "RoundRobinConfig",
    "SocraticConfig",
    "TreeOfThoughtsConfig",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.config", __all__, "gluellm-plugins-workflows"
)
