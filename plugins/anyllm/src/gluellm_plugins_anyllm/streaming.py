"""Streamed turns: any-llm chunk streams as GlueLLM `StreamDelta` iterators.

A turn is complete only when a chunk gives its finish reason. A stream that ends
without one (the server or a proxy closed the response early, with or without an
HTTP error) raises `gluellm.errors.StreamCutError` (an `APIConnectionError`) instead of
ending: its text is part of an answer, not an answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from gluellm.call import StreamDelta
from gluellm.errors import LLMError
from gluellm_plugins_anyllm.convert import to_stream_delta
from gluellm_plugins_anyllm.errors import incomplete_stream_error

Classifier = Callable[[BaseException], LLMError]
"""Turns what reading the stream raised into the GlueLLM error for the caller."""


async def _close_quietly(source: Any) -> None:
    close = getattr(source, "aclose", None) or getattr(source, "close", None)
    if callable(close):
        try:
            result = close()
            if hasattr(result, "__await__"):
                await result
        except Exception:
            from loguru import logger

            logger.opt(exception=True).debug("closing a provider stream failed")


class DeltaStream(AsyncIterator[StreamDelta]):
    """Chunks of one streamed turn; errors while reading are classified GlueLLM errors.

    A class rather than an async generator: a generator closed before its first read
    never runs its ``finally``, and the HTTP response would stay open. ``aclose()``
    here always reaches the provider stream.

    Args:
        source: any-llm's chunk stream (closed by `aclose`).
        iterator: The iterator reading ``source``.
        first: A chunk already read from ``source`` (reading one proves the provider
            accepted the request).
        provider: Provider name, for error messages.
        correlation_id: The call's correlation ID, for error messages.
        classify: Classifies what reading the stream raised (keys masked).
    """

    def __init__(
        self,
        source: Any,
        iterator: Any,
        first: Any,
        provider: str,
        correlation_id: str,
        classify: Classifier,
    ) -> None:
        self._source = source
        self._iterator = iterator
        self._pending: Any = first
        self._provider = provider
        self._correlation_id = correlation_id
        self._classify = classify
        self._closed = False
        self._finished = False  # a chunk gave the finish reason
        self._chunks = 0

    def __aiter__(self) -> DeltaStream:
        return self

    async def __anext__(self) -> StreamDelta:
        while True:
            if self._pending is not None:
                chunk, self._pending = self._pending, None
            else:
                chunk = await self._read()
            self._chunks += 1
            delta = to_stream_delta(chunk)
            if delta is not None:
                if delta.finish_reason is not None:
                    self._finished = True
                return delta

    async def _read(self) -> Any:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self._iterator.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            if self._finished:
                raise
            raise incomplete_stream_error(
                self._provider, self._correlation_id, self._chunks
            ) from None
        except Exception as error:
            await self.aclose()
            raise self._classify(error) from error
        except BaseException:
            # Cancelled while waiting for a chunk: let go of the connection too.
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop reading and close the provider's HTTP response."""
        self._closed = True
        self._pending = None
        source, self._source = self._source, None
        if source is not None:
            await _close_quietly(source)


async def open_stream(
    source: Any, provider: str, correlation_id: str, classify: Classifier
) -> DeltaStream:
    """Read the first chunk, so the provider's refusal raises here, then wrap the rest.

    Some SDKs (anthropic's) send the request only when the stream is first read; reading
    one chunk before handing the stream out makes every provider's early failure raise
    inside the pipeline, where the retry layer can still act on it. That includes a
    stream with no chunk at all, which is a cut stream too.

    Raises:
        StreamCutError: The stream ended before its first chunk.
        Exception: Whatever reading the first chunk raised, unclassified; the caller
            classifies it like any failure before the first chunk.
    """
    iterator = source.__aiter__()
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        await _close_quietly(source)
        raise incomplete_stream_error(provider, correlation_id, 0) from None
    except BaseException:
        await _close_quietly(source)
        raise
    return DeltaStream(source, iterator, first, provider, correlation_id, classify)
