"""The tree of thoughts workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.tree_of_thoughts import (
        ThoughtList as ThoughtList,
    )
    from gluellm_plugins_workflows.tree_of_thoughts import (
        ThoughtRanking as ThoughtRanking,
    )
    from gluellm_plugins_workflows.tree_of_thoughts import (
        ThoughtScore as ThoughtScore,
    )
    from gluellm_plugins_workflows.tree_of_thoughts import (
        TreeOfThoughtsConfig as TreeOfThoughtsConfig,
    )
    from gluellm_plugins_workflows.tree_of_thoughts import (
        TreeOfThoughtsWorkflow as TreeOfThoughtsWorkflow,
    )

__all__ = [
    "ThoughtList",
    "ThoughtRanking",
    "ThoughtScore",
    "TreeOfThoughtsConfig",
    "TreeOfThoughtsWorkflow",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.tree_of_thoughts", __all__, "gluellm-plugins-workflows"
)
