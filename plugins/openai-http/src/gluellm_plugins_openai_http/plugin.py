"""Hook implementations of the lean OpenAI-compatible transport.

Only ``@hookimpl`` functions: the transport module loads when a provider it serves is
first used, and aiohttp and orjson when the first call is prepared (off the loop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluellm import hookimpl

if TYPE_CHECKING:
    from gluellm.hookspecs import RegisterSettings, RegisterTransport

PROVIDER = "openai-http"
"""The provider name this plugin always serves: ``openai-http:gpt-4o-mini``."""


@hookimpl(tryfirst=True)
def register_transports(register: RegisterTransport) -> None:
    """Serve ``openai-http``, plus the providers named in ``GLUELLM_OPENAI_HTTP_PROVIDERS``.

    ``tryfirst``: a provider the user opted in (``openai``, ``vllm`` ...) is served by
    this transport rather than the default one (any-llm), whatever the load order.
    """
    from gluellm_plugins_openai_http.settings import OpenAIHTTPSettings
    from gluellm_plugins_openai_http.transport import factory, quiet_opt_in_conflicts

    settings = OpenAIHTTPSettings()
    opted_in = settings.providers()
    for provider in (PROVIDER, *opted_in):
        register(provider, factory(provider, settings))
    quiet_opt_in_conflicts(opted_in)


@hookimpl
def register_settings(register: RegisterSettings) -> None:
    """Declare ``GLUELLM_OPENAI_HTTP_*`` (`OpenAIHTTPSettings`)."""
    from gluellm_plugins_openai_http.settings import OpenAIHTTPSettings

    register(OpenAIHTTPSettings)
