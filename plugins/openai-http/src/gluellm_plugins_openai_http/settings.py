"""The lean transport's settings (``GLUELLM_OPENAI_HTTP_*``)."""

from __future__ import annotations

from pydantic import Field

from gluellm.config import PluginSettings


class OpenAIHTTPSettings(PluginSettings):
    """Which providers the lean transport serves, and its connection limits.

    Attributes:
        openai_http_providers: Comma list of provider names the lean transport serves
            instead of the default transport (``openai,vllm,ollama``). The provider
            ``openai-http`` is always served.
        openai_http_base_url: Endpoint of the ``openai-http`` provider when a call gives
            no ``base_url``; by default ``OPENAI_BASE_URL``, else OpenAI's.
        openai_http_max_connections: Open connections per event loop (0: no limit).
        openai_http_embed_batch_limit: Texts per embeddings request.
    """

    openai_http_providers: str = ""
    openai_http_base_url: str | None = None
    openai_http_max_connections: int = Field(default=1000, ge=0)
    openai_http_embed_batch_limit: int = Field(default=2048, ge=1)

    def providers(self) -> list[str]:
        """``openai_http_providers`` as lower-case names, without blanks or duplicates."""
        names = (name.strip().lower() for name in self.openai_http_providers.split(","))
        return list(dict.fromkeys(name for name in names if name and name != "openai-http"))
