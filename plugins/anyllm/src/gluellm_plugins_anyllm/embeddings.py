"""Embedding requests through any-llm: arguments, limits, and the answer as a ModelResponse.

One `embed` call is one HTTP request: core's `run_embedding` splits long input lists
to the transport's ``embed_batch_limit`` before they get here, so retries, rate limits
and timeouts apply to each request alone.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable, Sequence
from typing import Any

from gluellm.call import EMBEDDING_BATCH_LIMIT, ModelCall, ModelResponse, Usage
from gluellm.correlation import CORRELATION_HEADER
from gluellm.errors import ConfigurationError, LLMError
from gluellm_plugins_anyllm.traits import ProviderTraits

EMBED_BATCH_LIMITS: dict[str, int] = {
    "openai": 2048,
    "azure": 2048,
    "azureopenai": 2048,
    "gemini": 100,
    "cohere": 96,
    "voyage": 1000,
}
"""Texts per embedding request, as each provider documents it.

OpenAI and Azure OpenAI take at most 2,048 inputs per request, Gemini's batch embedding
100, Cohere's embed endpoint 96 and Voyage 1,000. Other providers get GlueLLM's default
(`gluellm.call.EMBEDDING_BATCH_LIMIT`).
"""


def embed_batch_limit(provider: str) -> int:
    """How many texts one embedding request to ``provider`` may carry."""
    return EMBED_BATCH_LIMITS.get(provider, EMBEDDING_BATCH_LIMIT)


def supports_embeddings(provider: str, traits: ProviderTraits) -> bool:
    """Whether any-llm can make embeddings for ``provider`` (imports its module)."""
    if traits.compatible is not None:
        return True  # the generic OpenAI-compatible client has /embeddings
    from any_llm import AnyLLM

    return bool(getattr(AnyLLM.get_provider_class(provider), "SUPPORTS_EMBEDDING", False))


def unsupported_error(call: ModelCall) -> ConfigurationError:
    """The error for an embedding call to a provider that has no embedding API."""
    return ConfigurationError(
        f"Provider {call.provider!r} has no embedding API, so {call.model!r} cannot embed "
        "texts. Use an embedding model of a provider that has one, for example "
        "'openai:text-embedding-3-small', 'mistral:mistral-embed' or "
        "'gemini:text-embedding-004'."
    )


def embed_kwargs(call: ModelCall, traits: ProviderTraits) -> dict[str, Any]:
    """Keyword arguments for ``AnyLLM.aembedding`` besides the model and the texts.

    The call's options (``dimensions``, ``encoding_format``, provider extras) go as
    they are. OpenAI-style providers also get the per-attempt ``timeout`` and the
    correlation header; other SDKs' embedding methods do not take those keywords, and
    core's timeout guard bounds their attempts anyway.
    """
    kwargs: dict[str, Any] = dict(call.options)
    if traits.openai_style:
        if call.timeout is not None and traits.per_request_timeout:
            kwargs["timeout"] = call.timeout
        headers = dict(kwargs.get("extra_headers") or {})
        headers[CORRELATION_HEADER] = call.correlation_id
        kwargs["extra_headers"] = headers
    return kwargs


def _vector(raw: Any) -> list[float]:
    """A vector as floats; base64 strings (little-endian float32, OpenAI's) decoded."""
    if isinstance(raw, str):
        data = base64.b64decode(raw)
        return list(struct.unpack(f"<{len(data) // 4}f", data))
    return [float(x) for x in raw]


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    prompt = int(getattr(raw, "prompt_tokens", None) or 0)
    total = int(getattr(raw, "total_tokens", None) or prompt)
    return Usage(prompt_tokens=prompt, completion_tokens=max(total - prompt, 0), total_tokens=total)


def to_embedding_response(result: Any) -> ModelResponse:
    """A `ModelResponse` from any-llm's ``CreateEmbeddingResponse``, vectors in input order."""
    data: Sequence[Any] = getattr(result, "data", None) or ()
    ordered = sorted(data, key=lambda item: int(getattr(item, "index", 0) or 0))
    return ModelResponse(
        embeddings=tuple(_vector(item.embedding) for item in ordered),
        usage=_usage(getattr(result, "usage", None)),
        model=getattr(result, "model", None),
        raw=result,
    )


async def send_embedding(
    llm: Any,
    call: ModelCall,
    traits: ProviderTraits,
    classify_error: Callable[[BaseException], LLMError],
) -> ModelResponse:
    """Send one embedding request on the reused any-llm instance ``llm``.

    Args:
        llm: The ``AnyLLM`` instance for the call's provider, key and base URL.
        call: The embedding call (``call.input`` holds the texts).
        traits: What the transport knows about the provider.
        classify_error: The transport's classifier, which masks the key in the error
            and its chain (the key itself stays out of this frame's variables).

    Raises:
        ConfigurationError: The provider has no embedding API.
        LLMError: The provider's error, classified like a completion's.
    """
    if not supports_embeddings(call.provider, traits):
        raise unsupported_error(call)
    kwargs = embed_kwargs(call, traits)
    try:
        result = await llm.aembedding(call.model_name, list(call.input), **kwargs)
    except Exception as error:
        raise classify_error(error) from error
    return to_embedding_response(result)
