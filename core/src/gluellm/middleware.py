"""Composing middleware: the shape shared by run, call and tool layers.

Every middleware is ``async (request, call_next) -> output``. `collect_middleware`
asks each plugin for its layer (first result outermost); `layer` puts one layer
around the next handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from gluellm.hook_calls import plugin_middleware

if TYPE_CHECKING:
    from gluellm.runtime import Runtime

Req = TypeVar("Req")
Out = TypeVar("Out")


def layer(
    middleware: Callable[[Req, Callable[[Req], Awaitable[Out]]], Awaitable[Out]],
    inner: Callable[[Req], Awaitable[Out]],
) -> Callable[[Req], Awaitable[Out]]:
    """``inner`` wrapped in ``middleware``."""

    async def handler(request: Req) -> Out:
        return await middleware(request, inner)

    return handler


def collect_middleware(runtime: Runtime, hook_name: str, /, **kwargs: Any) -> list[Any]:
    """Every plugin's layer for this request, outermost first; plugins that return None stay out.

    A hook implementation that raises, and a layer that raises an error of its own (not
    an `LLMError`, not one from ``call_next``), surface as a `PluginError` naming the
    plugin and hook, and are counted in ``gluellm plugins``.

    Args:
        runtime: Whose plugins to ask.
        hook_name: ``wrap_run``, ``wrap_call`` or ``wrap_tool``.
        **kwargs: The hook's arguments.
    """
    return plugin_middleware(runtime.plugin_manager, hook_name, **kwargs)
