"""Reused any-llm instances: one per (provider, key, base URL, event loop).

Building an SDK client costs milliseconds and opens its own connection pool, so a
client per call would be slow and leak sockets. Instances hold connections bound to
the event loop that first used them, hence the loop in the cache key.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import weakref
from typing import TYPE_CHECKING, Any

import attrs

from gluellm.errors import AuthenticationError, ConfigurationError
from gluellm_plugins_anyllm.http_stack import HttpStack, openai_http_client
from gluellm_plugins_anyllm.providers import (
    COMPATIBLE_ENDPOINTS,
    CompatibleEndpoint,
    gluellm_key_env,
)

if TYPE_CHECKING:
    from any_llm import AnyLLM


@attrs.frozen(kw_only=True)
class ProviderTraits:
    """What the transport needs to know about a provider before calling it.

    Attributes:
        key_env: The provider's own API-key variable, if it has one.
        base_env: The provider SDK's base-URL variable, if it has one.
        openai_style: Speaks through the openai SDK (stream_options, extra headers,
            the aiohttp stack apply).
        anthropic_style: Speaks through the anthropic SDK (extra headers apply).
        per_request_timeout: any-llm forwards ``timeout=`` for this provider.
        sdk_retries_settable: any-llm can turn the SDK's own retries off.
        compatible: Reached through any-llm's generic OpenAI-compatible client.
    """

    key_env: str | None
    base_env: str | None
    openai_style: bool
    anthropic_style: bool
    per_request_timeout: bool
    sdk_retries_settable: bool
    compatible: CompatibleEndpoint | None = None


async def load_any_llm() -> None:
    """Import any-llm (about a second) in a worker thread, once, off the event loop."""
    if "any_llm" not in sys.modules:
        await asyncio.to_thread(importlib.import_module, "any_llm")


def provider_traits(provider: str) -> ProviderTraits:
    """Inspect any-llm's class for ``provider`` (imports its module, not its SDK client)."""
    from any_llm import AnyLLM
    from any_llm.providers.openai.base import BaseOpenAIProvider

    compatible = COMPATIBLE_ENDPOINTS.get(provider)
    if compatible is not None:
        return ProviderTraits(
            key_env=compatible.key_env,
            base_env=compatible.base_env[0],
            openai_style=True,
            anthropic_style=False,
            per_request_timeout=True,
            sdk_retries_settable=True,
            compatible=compatible,
        )
    cls = AnyLLM.get_provider_class(provider)
    anthropic_style = any(base.__name__ == "BaseAnthropicProvider" for base in cls.__mro__)
    key_env = getattr(cls, "ENV_API_KEY_NAME", None)
    return ProviderTraits(
        key_env=key_env if key_env and key_env != "None" else None,
        base_env=getattr(cls, "ENV_API_BASE_NAME", None) or None,
        openai_style=issubclass(cls, BaseOpenAIProvider),
        anthropic_style=anthropic_style,
        per_request_timeout=getattr(cls, "TIMEOUT_SUPPORT", "unsupported") != "unsupported",
        sdk_retries_settable=getattr(cls, "MAX_RETRIES_SUPPORT", "unsupported") != "unsupported",
    )


def resolve_key(provider: str, traits: ProviderTraits, explicit: str | None) -> str | None:
    """The call's key, else ``GLUELLM_<PROVIDER>_API_KEY``, else the provider's variable."""
    if explicit:
        return explicit
    from gluellm.config import get_settings

    key = get_settings().api_key_for(provider)
    if key:
        return key
    if traits.key_env is None:
        return None
    return os.environ.get(traits.key_env) or None


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


_Key = tuple[str, str | None, str | None]


class ClientPool:
    """any-llm instances for one provider, per (key, base URL) and event loop.

    Args:
        provider: The any-llm provider name.
        stack: The HTTP stack for openai-SDK providers.
    """

    def __init__(self, provider: str, stack: HttpStack) -> None:
        self.provider = provider
        self.stack = stack
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, AnyLLM]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        # Keys are part of the cache keys: never show them.
        return f"ClientPool(provider={self.provider!r}, stack={self.stack!r})"

    def get(self, traits: ProviderTraits, api_key: str | None, base_url: str | None) -> AnyLLM:
        """The instance for these settings on the running loop, built on first use."""
        loop = asyncio.get_running_loop()
        clients = self._by_loop.get(loop)
        if clients is None:
            clients = self._by_loop[loop] = {}
        key: _Key = (self.provider, api_key, base_url)
        client = clients.get(key)
        if client is None:
            client = clients[key] = self._create(traits, api_key, base_url)
        return client

    def _create(self, traits: ProviderTraits, api_key: str | None, base_url: str | None) -> AnyLLM:
        from any_llm.exceptions import MissingApiKeyError, UnsupportedParameterError

        if traits.compatible is not None and traits.compatible.key_required and not api_key:
            raise missing_key_error(self.provider, traits)
        kwargs: dict[str, Any] = {"unified_exceptions": True}
        if traits.sdk_retries_settable:
            # GlueLLM's retry plugin is the only retry layer: SDK retries would multiply it.
            kwargs["max_retries"] = 0
        if traits.openai_style:
            http_client = openai_http_client(self.stack)
            if http_client is not None:
                kwargs["http_client"] = http_client
        try:
            return self._build(traits, api_key, base_url, kwargs)
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
            return self._build(traits, api_key, base_url, kwargs)

    def _build(
        self,
        traits: ProviderTraits,
        api_key: str | None,
        base_url: str | None,
        kwargs: dict[str, Any],
    ) -> AnyLLM:
        from any_llm import AnyLLM

        if traits.compatible is not None:
            return AnyLLM.create_openai_compatible(
                self.provider,
                api_base=base_url or traits.compatible.default_base,
                api_key=api_key or "no-key-required",
                **kwargs,
            )
        return AnyLLM.create(self.provider, api_key=api_key, api_base=base_url, **kwargs)

    async def aclose(self) -> None:
        """Close the instances bound to the running loop; forget the others.

        Instances of a loop that is gone cannot be awaited any more; their sockets went
        with the loop.
        """
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        pools = list(self._by_loop.items())
        self._by_loop.clear()
        for loop, clients in pools:
            if loop is not current:
                continue
            for client in clients.values():
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
