"""Calling hooks one implementation at a time, so a plugin that fails is named.

Pluggy calls every implementation of a hook in one go and lets the first exception
out, with no word of whose it was. Core calls most hooks through here instead:

- `call_each` for observers: a plugin that raises is logged once per plugin and hook,
  counted after that, and skipped; the others still run. `first_result` does the same
  for pick-one hooks such as ``estimate_cost``, asking the next plugin.
- `collect_middleware` / `plugin_middleware` for ``wrap_*`` hooks and
  `first_middleware` for the pick-one ``get_retrier`` / ``get_rate_limiter``: a plugin
  that raises in the hook, or whose layer raises an error of its own, reaches the
  caller as a `PluginError` naming the plugin and the hook.

Every failure is counted in `BasePluginManager.hook_failures` (``gluellm plugins``
shows them). Implementations are cached per plugin generation and called inline,
unless ``GLUELLM_TRACE_PLUGINS`` traces them: these run on every model call.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar

import attrs
import pluggy

from gluellm.errors import LLMError

if TYPE_CHECKING:
    import importlib.metadata

__all__ = [
    "BasePluginManager",
    "HookFailure",
    "Middleware",
    "PluginError",
    "call_each",
    "collect_middleware",
    "first_middleware",
    "first_result",
    "named_middleware",
    "plugin_middleware",
]

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")

Middleware: TypeAlias = Callable[
    [_Request, Callable[[_Request], Awaitable[_Response]]], Awaitable[_Response]
]
"""``async (request, call_next) -> response``: what ``wrap_*`` hooks return."""


class PluginError(Exception):
    """A plugin is broken: it failed to import, implements an unknown hook, or raised.

    Attributes:
        plugin_name: The plugin at fault, when one is known.
        hook_name: The hook it failed in, when it failed in one.
    """

    def __init__(
        self, message: str, *, plugin_name: str | None = None, hook_name: str | None = None
    ) -> None:
        super().__init__(message)
        self.plugin_name = plugin_name
        self.hook_name = hook_name


@attrs.frozen
class HookFailure:
    """A plugin's implementation of one hook raised, ``count`` times so far.

    Attributes:
        plugin: The plugin's name.
        hook: The hook's name.
        count: How many times it raised.
        first_error: ``Type: message`` of the first failure.
        last_error: ``Type: message`` of the latest failure.
    """

    plugin: str
    hook: str
    count: int
    first_error: str
    last_error: str


class BasePluginManager(pluggy.PluginManager):
    """Pluggy's manager plus what calling hooks one implementation at a time needs.

    `gluellm.plugins.PluginManager` builds on it (loading, listing); the functions of
    this module work with any pluggy manager, and keep these books for this kind.

    Attributes:
        hook_failures: ``(plugin, hook)`` -> how often that implementation raised.
        generation: Grows on every register and unregister, so caches built from
            hooks (a runtime's transports and tools, `_impls`) know when to rebuild.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.hook_failures: dict[tuple[str, str], HookFailure] = {}
        self.generation = 0
        self._distributions: dict[str, importlib.metadata.Distribution] = {}
        self._tracing = False
        self._failures_lock = threading.Lock()
        # hook name -> implementations in calling order, for `generation` (see `_impls`).
        self._impls_cache: dict[str, tuple[Any, ...]] = {}
        self._impls_generation = -1
        # (hook, plugin) -> the last layer it returned and its named wrapper.
        self._named: dict[tuple[str, str], tuple[Any, Any]] = {}

    def enable_tracing(self) -> Callable[[], None]:
        """Trace every hook call, including the ones core makes plugin by plugin.

        Returns:
            A function that turns the tracing off again.
        """
        undo = super().enable_tracing()
        self._tracing = True

        def disable() -> None:
            self._tracing = False
            undo()

        return disable

    def record_failure(self, plugin_name: str, hook_name: str, error: BaseException) -> HookFailure:
        """Count a failure of ``plugin_name``'s ``hook_name``; returns the updated tally."""
        text = _describe(error)
        key = (plugin_name, hook_name)
        with self._failures_lock:
            previous = self.hook_failures.get(key)
            if previous is None:
                failure = HookFailure(plugin_name, hook_name, 1, text, text)
            else:
                failure = attrs.evolve(previous, count=previous.count + 1, last_error=text)
            self.hook_failures[key] = failure
        return failure

    def distribution_of(self, plugin_name: str) -> importlib.metadata.Distribution | None:
        """The distribution a plugin was loaded from, if it came from an entry point."""
        return self._distributions.get(plugin_name)

    def _hook_error(self, plugin_name: str, hook_name: str, error: BaseException) -> PluginError:
        self.record_failure(plugin_name, hook_name, error)
        dist = self._distributions.get(plugin_name)
        source = f" (distribution {dist.metadata['Name']})" if dist else ""
        return PluginError(
            f"plugin {plugin_name!r}{source} failed in hook {hook_name}: {_describe(error)}. "
            f"Fix or uninstall it, or set GLUELLM_DISABLE_PLUGINS={plugin_name}.",
            plugin_name=plugin_name,
            hook_name=hook_name,
        )


def call_each(
    manager: pluggy.PluginManager, hook_name: str, only: object = None, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call every implementation of a hook alone; log and skip the ones that raise.

    A plugin's first failure in a hook is logged with its traceback at WARNING; later
    ones are counted in ``manager.hook_failures`` and logged at DEBUG only.

    Args:
        manager: The plugin manager.
        hook_name: The hook to call.
        only: Call only this plugin's implementation.
        **kwargs: The hook's arguments; each implementation gets the ones it names.

    Returns:
        ``(plugin name, result)`` for each implementation that returned normally, in
        pluggy's order (the last registered first).
    """
    results = []
    traced = getattr(manager, "_tracing", False)
    for impl in _plan(manager, hook_name):
        if only is not None and impl.plugin is not only:
            continue
        try:
            if traced:
                result = _call(manager, hook_name, impl, kwargs)
            elif impl.arity == 1:  # inline, no frame of its own: observers run per call
                result = impl.function(impl.pick(kwargs))
            else:
                result = impl.function(*impl.pick(kwargs))
            results.append((impl.plugin_name, result))
        except Exception as error:
            _log_failure(manager, impl.plugin_name, hook_name, error)
    return results


def first_result(manager: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> Any:
    """The first non-None result of a pick-one hook; a plugin that raises is skipped.

    Like pluggy's firstresult call, but an implementation that raises is logged (once
    per plugin and hook, then counted, as in `call_each`) and the next one is asked.

    Args:
        manager: The plugin manager.
        hook_name: A firstresult hook (``estimate_cost`` ...).
        **kwargs: The hook's arguments.

    Returns:
        The first non-None result, or None when every implementation returned None.
    """
    traced = getattr(manager, "_tracing", False)
    for impl in _plan(manager, hook_name):
        try:
            if traced:
                result = _call(manager, hook_name, impl, kwargs)
            elif impl.arity == 1:  # inline: asked on every model turn
                result = impl.function(impl.pick(kwargs))
            else:
                result = impl.function(*impl.pick(kwargs))
        except Exception as error:
            _log_failure(manager, impl.plugin_name, hook_name, error)
            continue
        if result is not None:
            return result
    return None


def collect_middleware(
    manager: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Ask every plugin for its middleware; a plugin that raises is named.

    Args:
        manager: The plugin manager.
        hook_name: A middleware hook (``wrap_call``, ``wrap_run``, ``wrap_tool`` ...).
        **kwargs: The hook's arguments.

    Returns:
        ``(plugin name, middleware)`` for every non-None result, outermost first.

    Raises:
        PluginError: An implementation raised; it names the plugin and the hook, and
            the plugin's exception is its ``__cause__``.
    """
    found = []
    traced = getattr(manager, "_tracing", False)
    for impl in _plan(manager, hook_name):
        try:
            if traced:
                middleware = _call(manager, hook_name, impl, kwargs)
            elif impl.arity == 1:  # inline: asked on every call
                middleware = impl.function(impl.pick(kwargs))
            else:
                middleware = impl.function(*impl.pick(kwargs))
        except Exception as error:
            raise _hook_error(manager, impl.plugin_name, hook_name, error) from error
        if middleware is not None:
            found.append((impl.plugin_name, middleware))
    return found


def named_middleware(
    manager: pluggy.PluginManager,
    plugin_name: str,
    hook_name: str,
    middleware: Middleware[_Request, _Response],
) -> Middleware[_Request, _Response]:
    """Wrap a plugin's middleware so the errors its own code raises name it.

    What passes through unchanged: `gluellm.errors.LLMError` (a plugin may raise one on
    purpose, and the provider's errors are LLMErrors), `PluginError` (an inner plugin
    was named already), anything that came out of ``call_next`` (the provider's or a
    tool's error, re-raised), and BaseExceptions such as cancellation. Any other
    exception becomes a `PluginError` naming the plugin and the hook, with the
    original as ``__cause__``, and is counted in ``manager.hook_failures``.

    Args:
        manager: The plugin manager, to record the failure in.
        plugin_name: The plugin that returned ``middleware``.
        hook_name: The hook that returned it.
        middleware: ``async (request, call_next) -> response``.

    Returns:
        A middleware with the same signature.
    """

    async def named(
        request: _Request, call_next: Callable[[_Request], Awaitable[_Response]]
    ) -> _Response:
        passed_through: list[BaseException] = []

        async def inner(inner_request: _Request) -> _Response:
            try:
                return await call_next(inner_request)
            except BaseException as error:
                passed_through.append(error)
                raise

        try:
            return await middleware(request, inner)
        except (LLMError, PluginError):
            raise
        except Exception as error:
            if any(error is seen for seen in passed_through):
                raise
            raise _hook_error(manager, plugin_name, hook_name, error) from error

    return named


def plugin_middleware(
    manager: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> list[Middleware[Any, Any]]:
    """`collect_middleware` then `named_middleware`: every plugin's layer, outermost first.

    Args:
        manager: The plugin manager.
        hook_name: A middleware hook.
        **kwargs: The hook's arguments.

    Raises:
        PluginError: An implementation of the hook raised.
    """
    found = collect_middleware(manager, hook_name, **kwargs)
    if not found:  # the usual case on every call: no plugin wants a layer
        return []
    return [
        named_middleware(manager, plugin_name, hook_name, middleware)
        for plugin_name, middleware in found
    ]


def first_middleware(
    manager: pluggy.PluginManager,
    hook_name: str,
    **kwargs: Any,
) -> Middleware[Any, Any] | None:
    """The first plugin's non-None middleware from a pick-one hook, named.

    For ``get_retrier`` and ``get_rate_limiter``: like pluggy's firstresult call, but
    a plugin that raises, or whose middleware raises, is named in a `PluginError`.

    Args:
        manager: The plugin manager.
        hook_name: A firstresult hook returning middleware.
        **kwargs: The hook's arguments.
    """
    traced = getattr(manager, "_tracing", False)
    for impl in _plan(manager, hook_name):
        try:
            if traced:
                middleware = _call(manager, hook_name, impl, kwargs)
            elif impl.arity == 1:  # inline: asked on every call
                middleware = impl.function(impl.pick(kwargs))
            else:
                middleware = impl.function(*impl.pick(kwargs))
        except Exception as error:
            raise _hook_error(manager, impl.plugin_name, hook_name, error) from error
        if middleware is not None:
            return _named_once(manager, impl.plugin_name, hook_name, middleware)
    return None


def _named_once(
    manager: pluggy.PluginManager, plugin_name: str, hook_name: str, middleware: Any
) -> Middleware[Any, Any]:
    """`named_middleware`, reusing the wrapper while a plugin returns the same layer.

    The retry and rate-limit plugins return one layer per policy or limit, so the
    pipeline can reuse the chain it composed from them (see `gluellm.pipeline`).
    """
    if not isinstance(manager, BasePluginManager):
        return named_middleware(manager, plugin_name, hook_name, middleware)
    key = (hook_name, plugin_name)
    cached = manager._named.get(key)
    if cached is not None and cached[0] is middleware:
        named: Middleware[Any, Any] = cached[1]
        return named
    named = named_middleware(manager, plugin_name, hook_name, middleware)
    manager._named[key] = (middleware, named)
    return named


class _Impl(NamedTuple):
    """One hook implementation, ready to call with the arguments it names."""

    plugin_name: str
    plugin: object
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    pick: Callable[[Mapping[str, Any]], Any]
    """Its arguments out of the hook's keyword arguments: one value when ``arity`` is 1,
    else a tuple (``operator.itemgetter``: C code, no frame)."""
    arity: int


def _no_arguments(kwargs: Mapping[str, Any]) -> tuple[()]:
    return ()


def _plan(manager: pluggy.PluginManager, hook_name: str) -> tuple[_Impl, ...]:
    """The hook's implementations in pluggy's calling order (last registered first).

    Cached per plugin generation: pluggy copies its list on every ``get_hookimpls()``,
    and the pipeline asks for several hooks on every call.
    """
    if isinstance(manager, BasePluginManager):
        if manager._impls_generation == manager.generation:
            found = manager._impls_cache.get(hook_name)
            if found is not None:
                return found
        else:
            manager._impls_cache.clear()
            manager._impls_generation = manager.generation
        found = manager._impls_cache[hook_name] = _implementations(manager, hook_name)
        return found
    return _implementations(manager, hook_name)


def _implementations(manager: pluggy.PluginManager, hook_name: str) -> tuple[_Impl, ...]:
    impls = []
    for impl in getattr(manager.hook, hook_name).get_hookimpls()[::-1]:
        names = tuple(impl.argnames)
        pick = operator.itemgetter(*names) if names else _no_arguments
        impls.append(_Impl(impl.plugin_name, impl.plugin, impl.function, names, pick, len(names)))
    return tuple(impls)


def _call(
    manager: pluggy.PluginManager, hook_name: str, impl: _Impl, kwargs: Mapping[str, Any]
) -> Any:
    """Call one implementation with the arguments it names, as pluggy would; traced."""
    args = [kwargs[name] for name in impl.argnames]
    hooktrace = manager.trace.root.get("hook")
    hooktrace.root.indent += 1
    try:
        hooktrace(hook_name, f"[{impl.plugin_name}]", dict(kwargs))
        result = impl.function(*args)
        hooktrace("finish", hook_name, f"[{impl.plugin_name}]", "-->", result)
        return result
    except Exception as error:
        hooktrace("raised", hook_name, f"[{impl.plugin_name}]", "-->", _describe(error))
        raise
    finally:
        hooktrace.root.indent -= 1


def _hook_error(
    manager: pluggy.PluginManager, plugin_name: str, hook_name: str, error: BaseException
) -> PluginError:
    if isinstance(manager, BasePluginManager):
        return manager._hook_error(plugin_name, hook_name, error)
    return PluginError(
        f"plugin {plugin_name!r} failed in hook {hook_name}: {_describe(error)}",
        plugin_name=plugin_name,
        hook_name=hook_name,
    )


def _log_failure(
    manager: pluggy.PluginManager, plugin_name: str, hook_name: str, error: Exception
) -> None:
    from loguru import logger

    count = 1
    if isinstance(manager, BasePluginManager):
        count = manager.record_failure(plugin_name, hook_name, error).count
    if count == 1:
        logger.opt(exception=error).warning(
            "plugin {!r} failed in hook {} ({}); skipped. Later failures of this plugin in "
            "this hook are only counted (see `gluellm plugins`).",
            plugin_name,
            hook_name,
            _describe(error),
        )
    else:
        logger.debug(
            "plugin {!r} failed in hook {} again ({} times): {}",
            plugin_name,
            hook_name,
            count,
            _describe(error),
        )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
