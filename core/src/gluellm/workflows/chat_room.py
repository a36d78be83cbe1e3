"""The chat room workflow pattern: provided by gluellm-plugins-workflows."""

from typing import TYPE_CHECKING

from gluellm._lazy import reexport

if TYPE_CHECKING:
    from gluellm_plugins_workflows.chat_room import (
        ChatRoomConfig as ChatRoomConfig,
    )
    from gluellm_plugins_workflows.chat_room import (
        ChatRoomWorkflow as ChatRoomWorkflow,
    )
    from gluellm_plugins_workflows.chat_room import (
        ModeratorDecision as ModeratorDecision,
    )

__all__ = [
    "ChatRoomConfig",
    "ChatRoomWorkflow",
    "ModeratorDecision",
]

__getattr__, __dir__ = reexport(
    __name__, "gluellm_plugins_workflows.chat_room", __all__, "gluellm-plugins-workflows"
)
