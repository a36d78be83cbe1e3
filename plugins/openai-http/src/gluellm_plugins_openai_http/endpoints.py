"""Where each provider's OpenAI-compatible API lives, and which key it takes.

Resolved once per (transport, key, base URL) and cached: no environment lookup and no
header building per call.
"""

from __future__ import annotations

import os

import attrs

from gluellm.correlation import CORRELATION_HEADER
from gluellm.errors import AuthenticationError, ConfigurationError

# Providers with an OpenAI-compatible API and a known public endpoint.
HOSTED: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "groq": "https://api.groq.com/openai/v1",
    "together": "https://api.together.xyz/v1",
    "xai": "https://api.x.ai/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "mistral": "https://api.mistral.ai/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "fireworks": "https://api.fireworks.ai/inference/v1",
    "perplexity": "https://api.perplexity.ai",
    "cerebras": "https://api.cerebras.ai/v1",
}

# Servers people run themselves, at their usual local address; they need no key.
LOCAL: dict[str, str] = {
    "ollama": "http://localhost:11434/v1",
    "lmstudio": "http://localhost:1234/v1",
    "vllm": "http://localhost:8000/v1",
    "llamacpp": "http://localhost:8080/v1",
    "llamafile": "http://localhost:8080/v1",
}


def _env_prefix(provider: str) -> str:
    """``OPENAI`` for ``openai`` and ``openai-http``; ``LMSTUDIO`` for ``lmstudio`` ..."""
    if provider == "openai-http":
        return "OPENAI"
    return provider.upper().replace("-", "_")


@attrs.frozen
class Endpoint:
    """A resolved endpoint: URLs and the headers every request sends.

    Attributes:
        base_url: The API root (``https://api.openai.com/v1``).
        chat_url: ``{base_url}/chat/completions``.
        embeddings_url: ``{base_url}/embeddings``.
        headers: Authorization and content type; never printed (the key is inside).
        key: The API key, or None; kept for masking it in error messages.
    """

    base_url: str
    chat_url: str
    embeddings_url: str
    headers: dict[str, str] = attrs.field(repr=False)
    key: str | None = attrs.field(repr=False)

    def request_headers(self, correlation_id: str) -> dict[str, str]:
        """The headers of one request: the endpoint's plus the call's correlation ID."""
        headers = self.headers.copy()
        headers[CORRELATION_HEADER] = correlation_id
        return headers


def resolve(
    provider: str, api_key: str | None, base_url: str | None, default_base: str | None
) -> Endpoint:
    """The endpoint for a call to ``provider`` with the call's key and base URL.

    Args:
        provider: ``openai-http``, ``openai``, ``vllm`` ...
        api_key: The call's key (core fills in ``GLUELLM_<PROVIDER>_API_KEY``); None
            reads ``<PROVIDER>_API_KEY``.
        base_url: The call's base URL; None reads ``<PROVIDER>_BASE_URL`` (or
            ``<PROVIDER>_API_BASE``), then the provider's known address.
        default_base: For ``openai-http``: ``GLUELLM_OPENAI_HTTP_BASE_URL``.

    Raises:
        ConfigurationError: No base URL is known for ``provider``.
        AuthenticationError: A hosted provider's endpoint and no key.
    """
    prefix = _env_prefix(provider)
    base = (
        base_url
        or (default_base if provider == "openai-http" else None)
        or os.environ.get(f"{prefix}_BASE_URL")
        or os.environ.get(f"{prefix}_API_BASE")
        or HOSTED.get("openai" if provider == "openai-http" else provider)
        or LOCAL.get(provider)
    )
    if not base:
        raise ConfigurationError(
            f"No endpoint known for provider {provider!r} on the openai-http transport. "
            f"Set {prefix}_BASE_URL, or pass base_url=, e.g. http://localhost:8000/v1."
        )
    base = base.rstrip("/")
    key = api_key or os.environ.get(f"{prefix}_API_KEY") or None
    if key is None and base in HOSTED.values():
        raise AuthenticationError(
            f"No API key for {provider} ({base}). Set {prefix}_API_KEY (or "
            f"GLUELLM_{prefix}_API_KEY), or pass api_key=."
        )
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return Endpoint(
        base_url=base,
        chat_url=f"{base}/chat/completions",
        embeddings_url=f"{base}/embeddings",
        headers=headers,
        key=key,
    )
