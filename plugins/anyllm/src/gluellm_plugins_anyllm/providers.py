"""Which providers this plugin serves, and how each one is reached.

Importing this module is cheap: it never imports any-llm. The provider list is static
so that registering transports (which happens for ``gluellm --help``) costs nothing; a
test keeps it equal to what the installed any-llm supports.
"""

from __future__ import annotations

import os

import attrs

PROVIDERS: tuple[str, ...] = (
    "anthropic",
    "atlascloud",
    "azure",
    "azureanthropic",
    "azureopenai",
    "bedrock",
    "cascadia",
    "cerebras",
    "cohere",
    "dashscope",
    "databricks",
    "deepinfra",
    "deepseek",
    "edenai",
    "fireworks",
    "gemini",
    "github",
    "gmi",
    "groq",
    "huggingface",
    "inception",
    "kenari",
    "liner",
    "llama",
    "llamacpp",
    "llamafile",
    "lmstudio",
    "meta",
    "minimax",
    "mistral",
    "moonshot",
    "mzai",
    "nebius",
    "neosantara",
    "ollama",
    "openai",
    "openrouter",
    "otari",
    "ovhcloud",
    "perplexity",
    "portkey",
    "qiniu",
    "requesty",
    "sagemaker",
    "sambanova",
    "telnyx",
    "together",
    "typesafe",
    "vertexai",
    "vertexaianthropic",
    "vllm",
    "voyage",
    "watsonx",
    "xai",
    "zai",
)
"""Every provider name any-llm-sdk 1.40 supports (``AnyLLM.get_supported_providers()``)."""


@attrs.frozen(kw_only=True)
class CompatibleEndpoint:
    """A provider reached through any-llm's generic OpenAI-compatible client.

    Used where any-llm's own provider needs an SDK we do not ship (xAI's gRPC
    ``xai-sdk``, the ``ollama`` package) but the service also speaks the OpenAI wire
    format.

    Attributes:
        default_base: Base URL when neither the call nor the environment gives one.
        base_env: Environment variables that may hold the base URL, in order.
        key_env: The provider's own API-key variable.
        key_required: Whether a call without any key is a configuration error.
    """

    default_base: str
    base_env: tuple[str, ...]
    key_env: str
    key_required: bool

    def base_from_env(self) -> str:
        """The base URL from the environment, or the default."""
        for name in self.base_env:
            value = os.environ.get(name)
            if value:
                return _normalize_base(name, value)
        return self.default_base


def _normalize_base(variable: str, value: str) -> str:
    # OLLAMA_HOST is "host:port" (maybe with a scheme) for Ollama's native API; its
    # OpenAI-compatible endpoint lives under /v1 on the same host.
    if variable != "OLLAMA_HOST":
        return value
    if "://" not in value:
        value = f"http://{value}"
    value = value.rstrip("/")
    return value if value.endswith("/v1") else f"{value}/v1"


COMPATIBLE_ENDPOINTS: dict[str, CompatibleEndpoint] = {
    "xai": CompatibleEndpoint(
        default_base="https://api.x.ai/v1",
        base_env=("XAI_BASE_URL", "XAI_API_BASE"),
        key_env="XAI_API_KEY",
        key_required=True,
    ),
    "ollama": CompatibleEndpoint(
        default_base="http://localhost:11434/v1",
        base_env=("OLLAMA_BASE_URL", "OLLAMA_HOST"),
        key_env="OLLAMA_API_KEY",
        key_required=False,
    ),
}
"""Providers reached through the OpenAI-compatible path instead of their own SDK."""


def gluellm_key_env(provider: str) -> str:
    """The ``GLUELLM_<PROVIDER>_API_KEY`` variable name for ``provider``."""
    return f"GLUELLM_{provider.upper()}_API_KEY"
