"""Hook implementations: register a transport for every provider any-llm supports.

Nothing heavy is imported here; any-llm loads when a call first needs it.
"""

from __future__ import annotations

from functools import partial

from gluellm import hookimpl
from gluellm.hookspecs import RegisterTransport


@hookimpl
def register_transports(register: RegisterTransport) -> None:
    """Serve every any-llm provider (``openai``, ``anthropic``, ``xai``, ``ollama`` ...)."""
    from gluellm_plugins_anyllm.providers import PROVIDERS
    from gluellm_plugins_anyllm.transport import AnyLLMTransport

    for provider in PROVIDERS:
        register(provider, partial(AnyLLMTransport, provider))
