"""The any-llm transport: sends GlueLLM model calls to any provider any-llm supports."""

from __future__ import annotations

from typing import Any

from gluellm.call import ModelCall, ModelResponse
from gluellm.errors import LLMError
from gluellm_plugins_anyllm.clients import (
    ClientPool,
    ProviderTraits,
    load_any_llm,
    missing_sdk_error,
    provider_traits,
    resolve_base,
    resolve_key,
)
from gluellm_plugins_anyllm.convert import request_kwargs, to_model_response
from gluellm_plugins_anyllm.embeddings import embed_batch_limit as embed_batch_limit_for
from gluellm_plugins_anyllm.embeddings import send_embedding
from gluellm_plugins_anyllm.errors import classify
from gluellm_plugins_anyllm.http_stack import HttpStack, configured_stack
from gluellm_plugins_anyllm.streaming import open_stream


class AnyLLMTransport:
    """A `gluellm.call.Transport` for one provider, on reused any-llm instances.

    any-llm is imported at the first call, not when the transport is built, so listing
    or registering transports stays cheap.

    Args:
        provider: The any-llm provider name (``openai``, ``anthropic``, ``xai`` ...).
        stack: HTTP stack for openai-SDK providers; default from
            ``GLUELLM_ANYLLM_HTTP_STACK``.
        embed_batch_limit: Texts per embedding request; default: the provider's
            documented limit (OpenAI: 2048). Core splits longer inputs.
    """

    def __init__(
        self, provider: str, stack: HttpStack | None = None, *, embed_batch_limit: int | None = None
    ) -> None:
        self.provider = provider
        self.embed_batch_limit = embed_batch_limit or embed_batch_limit_for(provider)
        self._pool = ClientPool(provider, stack or configured_stack())
        self._traits: ProviderTraits | None = None

    def __repr__(self) -> str:
        return f"AnyLLMTransport(provider={self.provider!r}, stack={self._pool.stack!r})"

    async def _provider_traits(self) -> ProviderTraits:
        if self._traits is None:
            await load_any_llm()
            try:
                self._traits = provider_traits(self.provider)
            except ImportError as error:
                raise missing_sdk_error(self.provider, error) from error
        return self._traits

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Send ``call``; raise GlueLLM errors with the provider's exception chained.

        With ``call.stream`` set, return once the first chunk arrived; the response's
        ``stream`` yields the turn's deltas.
        """
        traits = await self._provider_traits()
        api_key = resolve_key(self.provider, traits, call.api_key)
        base_url = resolve_base(traits, call.base_url)
        try:
            llm = self._pool.get(traits, api_key, base_url)
        except LLMError:
            raise
        except Exception as error:
            raise classify(error, self.provider, call.correlation_id, api_key) from error
        kwargs = request_kwargs(call, traits)
        messages: list[Any] = list(call.messages)
        try:
            result = await llm.acompletion(model=call.model_name, messages=messages, **kwargs)
            if call.stream:
                stream = await open_stream(result, self.provider, call.correlation_id)
                return ModelResponse(stream=stream)
        except Exception as error:
            raise classify(error, self.provider, call.correlation_id, api_key) from error
        return to_model_response(result)

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Embed ``call.input`` in one request; raise GlueLLM errors as `complete` does."""
        traits = await self._provider_traits()
        api_key = resolve_key(self.provider, traits, call.api_key)
        base_url = resolve_base(traits, call.base_url)
        try:
            llm = self._pool.get(traits, api_key, base_url)
        except LLMError:
            raise
        except Exception as error:
            raise classify(error, self.provider, call.correlation_id, api_key) from error
        return await send_embedding(llm, call, traits, api_key)

    async def aclose(self) -> None:
        """Close the SDK clients this transport built on the running event loop."""
        await self._pool.aclose()
