"""The any-llm transport: sends GlueLLM model calls to any provider any-llm supports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gluellm.call import ModelCall, ModelResponse
from gluellm.errors import LLMError
from gluellm_plugins_anyllm.clients import ClientPool, missing_sdk_error, resolve_endpoint
from gluellm_plugins_anyllm.convert import request_kwargs, to_model_response
from gluellm_plugins_anyllm.embeddings import embed_batch_limit as embed_batch_limit_for
from gluellm_plugins_anyllm.embeddings import send_embedding
from gluellm_plugins_anyllm.errors import classify, classify_stream_error
from gluellm_plugins_anyllm.http_stack import HttpStack, configured_stack
from gluellm_plugins_anyllm.redaction import Endpoint, scrub
from gluellm_plugins_anyllm.streaming import open_stream
from gluellm_plugins_anyllm.traits import ProviderTraits, load_traits

if TYPE_CHECKING:
    from any_llm import AnyLLM


class AnyLLMTransport:
    """A `gluellm.call.Transport` for one provider, on reused any-llm instances.

    any-llm is imported at the first call, not when the transport is built, so listing
    or registering transports stays cheap; the import and the first client happen in
    worker threads, in `prepare`, which core awaits before the per-attempt timeout.

    The API key never appears in what the caller can print: errors (and the provider
    exceptions chained under them) have it masked, and it is held in an `Endpoint`,
    whose repr hides it, so tracebacks that show local variables do not show it either.

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
            try:
                self._traits = await load_traits(self.provider)
            except ImportError as error:
                raise missing_sdk_error(self.provider, error) from error
        return self._traits

    async def _client(self, call: ModelCall) -> tuple[ProviderTraits, Endpoint, AnyLLM]:
        traits = await self._provider_traits()
        endpoint = resolve_endpoint(traits, call.api_key, call.base_url)
        try:
            llm = await self._pool.get(traits, endpoint)
        except LLMError:
            raise
        except Exception as error:
            raise self._error(error, call, endpoint) from error
        return traits, endpoint, llm

    async def prepare(self, call: ModelCall) -> None:
        """Import any-llm and the provider's module and build the call's client.

        Both happen in worker threads, so the event loop keeps running; core awaits this
        outside the per-attempt timeout, so a cold start does not fail a short timeout.
        `complete` does the same work itself when nobody called this first.

        Raises:
            ConfigurationError: The provider's SDK is not installed.
            AuthenticationError: The provider needs a key and none was found.
        """
        await self._client(call)

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Send ``call``; raise GlueLLM errors with the provider's exception chained.

        With ``call.stream`` set, return once the first chunk arrived; the response's
        ``stream`` yields the turn's deltas, and raises `StreamCutError` (an
        `APIConnectionError`) if it ends before the model gave its finish reason.
        """
        traits, endpoint, llm = await self._client(call)
        kwargs = request_kwargs(call, traits)
        messages: list[Any] = list(call.messages)
        try:
            result = await llm.acompletion(model=call.model_name, messages=messages, **kwargs)
            if call.stream:

                def classify_read(error: BaseException) -> LLMError:
                    return self._error(error, call, endpoint, streaming=True)

                stream = await open_stream(
                    result, self.provider, call.correlation_id, classify_read
                )
                return ModelResponse(stream=stream)
        except LLMError:
            raise
        except Exception as error:
            raise self._error(error, call, endpoint) from error
        return to_model_response(result)

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Embed ``call.input`` in one request; raise GlueLLM errors as `complete` does."""
        traits, endpoint, llm = await self._client(call)

        def classify_error(error: BaseException) -> LLMError:
            return self._error(error, call, endpoint)

        return await send_embedding(llm, call, traits, classify_error)

    def _error(
        self,
        error: BaseException,
        call: ModelCall,
        endpoint: Endpoint,
        *,
        streaming: bool = False,
    ) -> LLMError:
        """The GlueLLM error for ``error``, with the key masked all along its chain.

        The provider's exceptions stay chained under the GlueLLM error (callers may
        inspect them) but no longer contain the key.
        """
        scrub(error, endpoint.key)
        how = classify_stream_error if streaming else classify
        return how(error, self.provider, call.correlation_id, endpoint.key)

    async def aclose(self) -> None:
        """Close the SDK clients this transport built on the running event loop.

        Clients on other loops (other threads) are left to their own loops.
        """
        await self._pool.aclose()
