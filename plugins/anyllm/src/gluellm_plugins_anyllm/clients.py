"""Reused any-llm instances: one per (key, base URL) and event loop, for one provider.

Building an SDK client costs milliseconds (the first one, a few hundred: it imports the
HTTP stack) and opens its own connection pool, so a client per call would be slow and
leak sockets. Instances hold connections bound to the event loop that first used them,
hence one set per loop. Loops may run in several threads at once: each keeps its own
clients, and closing one loop's clients leaves the others' alone.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from gluellm.errors import AuthenticationError, ConfigurationError
from gluellm_plugins_anyllm.http_stack import HttpStack, anthropic_http_client, openai_http_client
from gluellm_plugins_anyllm.providers import gluellm_key_env
from gluellm_plugins_anyllm.redaction import Endpoint
from gluellm_plugins_anyllm.traits import ProviderTraits
from gluellm_plugins_anyllm.warmup import warm_client, warm_up

if TYPE_CHECKING:
    from any_llm import AnyLLM


def resolve_endpoint(traits: ProviderTraits, api_key: str | None, base_url: str | None) -> Endpoint:
    """The call's key and base URL, else the provider's own variables.

    Core resolves ``GLUELLM_<PROVIDER>_API_KEY`` from the runtime's settings into the
    call's key; the provider's variable (``OPENAI_API_KEY`` ...) is the fallback here.
    """
    key = api_key or (os.environ.get(traits.key_env) if traits.key_env else None) or None
    return Endpoint(key=key, base_url=resolve_base(traits, base_url))


def resolve_base(traits: ProviderTraits, explicit: str | None) -> str | None:
    """The call's base URL, else the provider SDK's variable (None: the SDK's default)."""
    if explicit:
        return explicit
    if traits.compatible is not None:
        return traits.compatible.base_from_env()
    if traits.base_env is None:
        return None
    return os.environ.get(traits.base_env) or None


def missing_key_error(provider: str, traits: ProviderTraits) -> AuthenticationError:
    """The error for a call that found no key anywhere, naming what to set."""
    names = [gluellm_key_env(provider)]
    if traits.key_env:
        names.append(traits.key_env)
    return AuthenticationError(
        f"No API key for provider {provider!r}. Set {' or '.join(names)}, "
        "or pass api_key= to the call."
    )


def missing_sdk_error(provider: str, error: ImportError) -> ConfigurationError:
    """The error for a provider whose SDK is not installed, naming what to install."""
    return ConfigurationError(
        f"The {provider!r} provider needs its SDK, which is not installed ({error}). "
        f"Install it with: pip install 'any-llm-sdk[{provider}]'"
    )


_Key = tuple[str | None, str | None]
_Loop = asyncio.AbstractEventLoop


class ClientPool:
    """any-llm instances for one provider, per (key, base URL) and event loop.

    Args:
        provider: The any-llm provider name.
        stack: The HTTP stack for openai-SDK providers.
    """

    def __init__(self, provider: str, stack: HttpStack) -> None:
        self.provider = provider
        self.stack = stack
        # Guards both maps: loops in other threads add and remove their entries.
        self._lock = threading.Lock()
        self._by_loop: weakref.WeakKeyDictionary[_Loop, dict[_Key, AnyLLM]] = (
            weakref.WeakKeyDictionary()
        )
        self._building: weakref.WeakKeyDictionary[_Loop, dict[_Key, asyncio.Task[AnyLLM]]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        # Keys are part of the cache keys: never show them.
        return f"ClientPool(provider={self.provider!r}, stack={self.stack!r})"

    def loops(self) -> int:
        """How many event loops hold clients from this pool now."""
        with self._lock:
            return sum(1 for clients in self._by_loop.values() if clients)

    async def get(self, traits: ProviderTraits, endpoint: Endpoint) -> AnyLLM:
        """The instance for ``endpoint`` on the running loop, built on first use.

        The first build happens in a worker thread (it imports the HTTP stack); calls
        that need the same instance meanwhile wait for that one build.
        """
        loop = asyncio.get_running_loop()
        key: _Key = (endpoint.key, endpoint.base_url)
        with self._lock:
            clients = self._by_loop.get(loop)
            client = clients.get(key) if clients is not None else None
            if client is not None:
                return client
            building = self._building.setdefault(loop, {})
            task = building.get(key)
            if task is None:
                task = building[key] = loop.create_task(self._build(loop, key, traits, endpoint))
                # Retrieved here so that a build nobody waits for any more logs nothing.
                task.add_done_callback(lambda t: t.cancelled() or t.exception())
        # Shielded: a caller that gives up (a timeout) leaves the build to finish and
        # land in the pool, instead of leaving a half-made client behind.
        return await asyncio.shield(task)

    async def _build(
        self, loop: _Loop, key: _Key, traits: ProviderTraits, endpoint: Endpoint
    ) -> AnyLLM:
        try:
            client = await asyncio.to_thread(self._create, traits, endpoint)
        finally:
            with self._lock:
                self._building.get(loop, {}).pop(key, None)
        with self._lock:
            self._by_loop.setdefault(loop, {})[key] = client
        return client

    def _create(self, traits: ProviderTraits, endpoint: Endpoint) -> AnyLLM:
        from any_llm.exceptions import MissingApiKeyError, UnsupportedParameterError

        if traits.compatible is not None and traits.compatible.key_required and not endpoint.key:
            raise missing_key_error(self.provider, traits)
        kwargs: dict[str, Any] = {"unified_exceptions": True}
        if traits.sdk_retries_settable:
            # GlueLLM's retry plugin is the only retry layer: SDK retries would multiply it.
            kwargs["max_retries"] = 0
        if traits.openai_style:
            kwargs["http_client"] = openai_http_client(self.stack)
        elif traits.anthropic_style:
            kwargs["http_client"] = anthropic_http_client()
        try:
            llm = self._construct(traits, endpoint, kwargs)
        except MissingApiKeyError as error:
            raise missing_key_error(self.provider, traits) from error
        except ImportError as error:
            raise missing_sdk_error(self.provider, error) from error
        except UnsupportedParameterError as error:
            # A provider whose SDK has no retry count (despite its flag): build it anyway.
            if getattr(error, "parameter_name", None) != "max_retries":
                raise
            kwargs.pop("max_retries", None)
            from loguru import logger

            logger.warning(
                "{}: the provider SDK's own retries cannot be turned off; "
                "failed requests may be retried by the SDK as well as by GlueLLM",
                self.provider,
            )
            llm = self._construct(traits, endpoint, kwargs)
        # Still in the worker thread: do the SDK's first-use work here, not in the call.
        warm_client(llm)
        warm_up(traits)
        return llm

    def _construct(
        self, traits: ProviderTraits, endpoint: Endpoint, kwargs: dict[str, Any]
    ) -> AnyLLM:
        try:
            return self._construct_with(traits, endpoint, kwargs)
        except Exception as error:
            # Some openai-style providers (deepseek, meta) wrap an SDK that takes only its
            # own HTTP client: build them on their default one, without the answer check.
            if "http_client" not in kwargs or "http_client" not in str(error):
                raise
            without = {name: value for name, value in kwargs.items() if name != "http_client"}
            return self._construct_with(traits, endpoint, without)

    def _construct_with(
        self, traits: ProviderTraits, endpoint: Endpoint, kwargs: dict[str, Any]
    ) -> AnyLLM:
        from any_llm import AnyLLM

        if traits.compatible is not None:
            return AnyLLM.create_openai_compatible(
                self.provider,
                api_base=endpoint.base_url or traits.compatible.default_base,
                api_key=endpoint.key or "no-key-required",
                **kwargs,
            )
        return AnyLLM.create(
            self.provider, api_key=endpoint.key, api_base=endpoint.base_url, **kwargs
        )

    async def aclose(self) -> None:
        """Close the instances bound to the running loop; keep every other loop's.

        Other loops' instances belong to those loops: each is closed when its own loop
        shuts down (or by the transport's ``aclose`` on that loop).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        with self._lock:
            clients = self._by_loop.pop(loop, None)
        for client in (clients or {}).values():
            await close_client(client)


async def close_client(llm: Any) -> None:
    """Close an any-llm instance's SDK client, whatever spelling its SDK uses."""
    client = getattr(llm, "client", None)
    close = getattr(client, "close", None) or getattr(client, "aclose", None)
    if not callable(close):
        return
    try:
        result = close()
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            await result
    except Exception:
        from loguru import logger

        logger.opt(exception=True).debug("closing a {} client failed", type(llm).__name__)
