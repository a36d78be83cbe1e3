"""Correlation IDs: one per logical call, carried by a context variable.

The ID reaches logs, retries, tool executions, the call's result and (through the
transport) the provider as the ``X-Correlation-ID`` request header.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token

from gluellm.call import new_correlation_id

CORRELATION_HEADER = "X-Correlation-ID"
"""The request header transports send the ID in."""

_current: ContextVar[str | None] = ContextVar("gluellm_correlation_id", default=None)


def get_correlation_id() -> str | None:
    """The correlation ID of the call running in this context, if any."""
    return _current.get()


def bind_correlation_id(correlation_id: str | None = None) -> tuple[str, Token[str | None]]:
    """Enter a correlation scope without a context manager (for hot paths).

    Returns:
        The scope's ID (the given one, the enclosing one, or a new one) and the token
        to pass to `unbind_correlation_id` when the scope ends.
    """
    value = correlation_id or _current.get() or new_correlation_id()
    return value, _current.set(value)


def unbind_correlation_id(token: Token[str | None]) -> None:
    """End a scope entered with `bind_correlation_id`."""
    _current.reset(token)


@contextlib.contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Run the block under ``correlation_id``: the given one, the enclosing one, or a new one."""
    value, token = bind_correlation_id(correlation_id)
    try:
        yield value
    finally:
        unbind_correlation_id(token)
