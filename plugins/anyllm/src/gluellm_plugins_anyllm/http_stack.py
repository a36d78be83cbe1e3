"""Which HTTP stack the openai SDK uses under OpenAI-compatible providers.

The openai SDK's default stack (httpx2) spends most of a core on its own bookkeeping
at high concurrency; the same SDK on its aiohttp adapter (``openai[aiohttp]``) serves
about twice the requests per second for less CPU (see ``benchmarks/``). The
benchmark, the streaming, error and timeout tests all pass on both, so aiohttp is
the default and ``GLUELLM_ANYLLM_HTTP_STACK=httpx`` switches back.

Whatever the stack, the transport hands the openai and anthropic SDKs an HTTP client of
its own, so that every answer passes `wire_check.check_response` first.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from gluellm_plugins_anyllm.wire_check import event_hooks

HttpStack = Literal["aiohttp", "httpx"]

STACK_ENV = "GLUELLM_ANYLLM_HTTP_STACK"
"""Environment variable that picks the stack: ``aiohttp`` (default) or ``httpx``."""

DEFAULT_STACK: HttpStack = "aiohttp"


def configured_stack() -> HttpStack:
    """The stack named by ``GLUELLM_ANYLLM_HTTP_STACK``, else the default."""
    value = os.environ.get(STACK_ENV, "").strip().lower()
    if value in ("httpx", "httpx2", "default"):
        return "httpx"
    if value == "aiohttp":
        return "aiohttp"
    return DEFAULT_STACK


def openai_http_client(stack: HttpStack) -> Any:
    """An ``http_client`` for ``openai.AsyncOpenAI`` on ``stack``, answers checked.

    Falls back to the default stack when aiohttp is not installed, rather than failing
    the call: the stack is a speed choice, not a feature.
    """
    from openai import DefaultAsyncHttpxClient

    if stack == "aiohttp":
        try:
            import aiohttp  # noqa: F401  (the adapter needs it; probe before building)
            from openai import DefaultAioHttpClient
        except ImportError:
            from loguru import logger

            logger.warning(
                "aiohttp is not installed; the openai SDK falls back to its default HTTP "
                "stack. Install openai[aiohttp] for higher throughput."
            )
        else:
            return DefaultAioHttpClient(event_hooks=event_hooks())
    return DefaultAsyncHttpxClient(event_hooks=event_hooks())


def anthropic_http_client() -> Any:
    """An ``http_client`` for the anthropic SDK's clients (its own defaults), answers checked."""
    from anthropic import DefaultAsyncHttpxClient

    return DefaultAsyncHttpxClient(event_hooks=event_hooks())
