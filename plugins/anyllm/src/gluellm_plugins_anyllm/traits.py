"""What the transport knows about a provider, and loading any-llm to find it out.

Importing any-llm takes one to three seconds (it imports the openai and anthropic SDKs,
about 2,400 modules), so it happens once per process, in a worker thread: never on an
event loop, and never inside a call's per-attempt timeout when the pipeline calls the
transport's ``prepare`` first. Concurrent first calls, on one loop or on loops in
several threads, share the one import.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import attrs

from gluellm_plugins_anyllm.providers import COMPATIBLE_ENDPOINTS, CompatibleEndpoint


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


def provider_traits(provider: str) -> ProviderTraits:
    """Inspect any-llm's class for ``provider``; imports any-llm and the provider's module.

    Blocking: call it through `load_traits` from async code.

    Raises:
        ImportError: The provider's SDK is not installed.
    """
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


_loads: dict[str, concurrent.futures.Future[ProviderTraits]] = {}
_loads_lock = threading.Lock()


def _load(provider: str, future: concurrent.futures.Future[ProviderTraits]) -> None:
    try:
        traits = provider_traits(provider)
    except BaseException as error:  # handed to every waiter, on whichever loop
        future.set_exception(error)
    else:
        future.set_result(traits)


async def load_traits(provider: str) -> ProviderTraits:
    """``provider``'s traits, importing any-llm in a worker thread the first time.

    One import per provider and process, shared by every caller on every event loop; a
    caller that gives up waiting (a timeout) does not stop it, so the next call finds
    it done. A failed import (a missing SDK) is tried again by the next call.

    Raises:
        ImportError: The provider's SDK is not installed.
    """
    with _loads_lock:
        future = _loads.get(provider)
        if future is None or (future.done() and future.exception() is not None):
            future = _loads[provider] = concurrent.futures.Future()
            # Marked running so that a waiter's cancellation cannot cancel the load itself.
            future.set_running_or_notify_cancel()
            # A thread of its own rather than the loop's executor: the import outlives
            # the loop that started it when that loop is an asyncio.run() per call.
            threading.Thread(
                target=_load, args=(provider, future), name="gluellm-anyllm-import", daemon=True
            ).start()
    if future.done():
        return future.result()
    return await asyncio.wrap_future(future)
