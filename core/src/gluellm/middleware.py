"""Composing middleware: the shape shared by run, call and tool layers.

Every middleware is ``async (request, call_next) -> output``. `collect_middleware`
asks each plugin for its layer (first result outermost); `layer` puts one layer
around the next handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

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

    Args:
        runtime: Whose plugins to ask.
        hook_name: ``wrap_run``, ``wrap_call`` or ``wrap_tool``.
        **kwargs: The hook's arguments.
    """
    results = getattr(runtime.plugin_manager.hook, hook_name)(**kwargs)
    return [middleware for middleware in results if middleware is not None]
