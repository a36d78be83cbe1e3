"""The lean transport: OpenAI-compatible chat completions and embeddings over aiohttp.

No SDK: requests and answers are plain JSON (orjson), streams are read as server-sent
events directly. One aiohttp session per event loop keeps connections alive between
calls; core closes it when the loop ends (`Runtime.watch_loop`) or on ``aclose``.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from gluellm.call import ModelCall, ModelResponse
from gluellm_plugins_openai_http.endpoints import Endpoint, resolve

if TYPE_CHECKING:
    import aiohttp

    from gluellm_plugins_openai_http import _http
    from gluellm_plugins_openai_http.settings import OpenAIHTTPSettings

DEFAULT_EMBED_BATCH_LIMIT = 2048
"""Texts per embeddings request (OpenAI's limit); core splits longer inputs."""


class OpenAIHTTPTransport:
    """A `gluellm.call.Transport` for one OpenAI-compatible provider, on aiohttp.

    aiohttp and orjson are imported by `prepare` in a worker thread (core awaits it
    before the per-attempt timeout), so a cold start neither blocks the event loop nor
    fails a short timeout.

    Args:
        provider: The provider name (``openai-http``, ``openai``, ``vllm`` ...); it picks
            the default endpoint and the key's variable (``<PROVIDER>_API_KEY``).
        base_url: Endpoint when a call gives none (for ``openai-http``:
            ``GLUELLM_OPENAI_HTTP_BASE_URL``); else ``<PROVIDER>_BASE_URL``, then the
            provider's known address.
        max_connections: Open connections per event loop (0: no limit).
        embed_batch_limit: Texts per embeddings request.
    """

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        max_connections: int = 1000,
        embed_batch_limit: int = DEFAULT_EMBED_BATCH_LIMIT,
    ) -> None:
        self.provider = provider
        self.embed_batch_limit = embed_batch_limit
        self._base_url = base_url
        self._max_connections = max_connections
        self._http: _http.Sender | None = None
        self._endpoints: dict[tuple[str | None, str | None], Endpoint] = {}
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()
        # The last loop's session, checked first: almost every process has one loop.
        self._last: tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession] | None = None

    def __repr__(self) -> str:
        return f"OpenAIHTTPTransport(provider={self.provider!r})"

    async def prepare(self, call: ModelCall) -> None:
        """Import aiohttp and orjson (in a worker thread), resolve the endpoint, open a session.

        Raises:
            ConfigurationError: No endpoint is known for the provider.
            AuthenticationError: A hosted endpoint and no API key.
        """
        if self._http is None:
            module = await asyncio.to_thread(
                importlib.import_module, "gluellm_plugins_openai_http._http"
            )
            self._http = module.Sender(self.provider)
        self._endpoint(call)
        self._session()

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Send ``call``; raise GlueLLM errors.

        With ``call.stream`` set, return once the first chunk arrived; the response's
        ``stream`` yields the turn's deltas and raises a retry-safe `APIConnectionError`
        if the body ends before a finish reason.
        """
        sender = self._http
        if sender is None:
            await self.prepare(call)
            sender = self._http
            assert sender is not None
        return await sender.chat(self._session(), self._endpoint(call), call)

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Embed ``call.input`` in one request (core splits to ``embed_batch_limit``)."""
        sender = self._http
        if sender is None:
            await self.prepare(call)
            sender = self._http
            assert sender is not None
        return await sender.embed(self._session(), self._endpoint(call), call)

    def _endpoint(self, call: ModelCall) -> Endpoint:
        """The call's endpoint; resolved (environment read) once per key and base URL."""
        cache_key = (call.api_key, call.base_url)
        endpoint = self._endpoints.get(cache_key)
        if endpoint is None:
            endpoint = resolve(self.provider, call.api_key, call.base_url, self._base_url)
            self._endpoints[cache_key] = endpoint
        return endpoint

    def _session(self) -> aiohttp.ClientSession:
        """The running loop's session, opened on first use."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop and not last[1].closed:
            return last[1]
        session = self._sessions.get(loop)
        if session is None or session.closed:
            from gluellm_plugins_openai_http._http import new_session

            session = self._sessions[loop] = new_session(self._max_connections)
        self._last = (loop, session)
        return session

    async def aclose(self) -> None:
        """Close the running loop's session and its connections.

        Sessions of other loops (other threads) are left to their loops.
        """
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if self._last is not None and self._last[0] is loop:
            self._last = None
        if session is not None and not session.closed:
            await session.close()


def factory(provider: str, settings: OpenAIHTTPSettings) -> Callable[[], OpenAIHTTPTransport]:
    """The ``register_transports`` factory for ``provider`` with the plugin's settings."""

    def build() -> OpenAIHTTPTransport:
        return OpenAIHTTPTransport(
            provider,
            base_url=settings.openai_http_base_url if provider == "openai-http" else None,
            max_connections=settings.openai_http_max_connections,
            embed_batch_limit=settings.openai_http_embed_batch_limit,
        )

    return build


def quiet_opt_in_conflicts(providers: list[str]) -> None:
    """Silence core's conflict warning for providers the user moved here on purpose.

    ``GLUELLM_OPENAI_HTTP_PROVIDERS=openai`` asks for this transport to serve ``openai``
    instead of the default one; the warning that two plugins register ``openai`` would
    only repeat the user's choice. Other conflicts still warn.
    """
    if not providers:
        return
    from gluellm.plugins import PluginConflictWarning

    names = "|".join(re.escape(name) for name in sorted(providers))
    warnings.filterwarnings(
        "ignore",
        message=rf"provider '({names})' is registered by plugins 'openai-http' and ",
        category=PluginConflictWarning,
    )
