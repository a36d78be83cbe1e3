"""Finding, loading, listing and calling plugins.

Plugins are found through the ``gluellm`` entry-point group and loaded one by one, so
a plugin that fails to import (even with ``sys.exit()``) is named, listed and skipped
instead of breaking every call. Unknown hook names are checked once, after every
plugin has loaded, so a plugin may implement hooks that another plugin adds, in any
load order. Environment variables:

- ``GLUELLM_LOAD_PLUGINS``: unset loads all; empty loads none; a comma list loads only
  those (entry-point or distribution names).
- ``GLUELLM_DISABLE_PLUGINS``: comma list of plugins not to load.
- ``GLUELLM_STRICT_PLUGINS``: ``1`` makes a broken plugin a fatal error.
- ``GLUELLM_TRACE_PLUGINS``: ``1`` prints every hook call to stderr.

Core calls most hooks one implementation at a time (`call_each`, `collect_middleware`),
so a plugin that raises is named: observers' failures are logged once per plugin and
hook and counted after that; middleware failures reach the caller as `PluginError`.
Every failure is recorded in `PluginManager.hook_failures` and shown by
``gluellm plugins``.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import attrs
import pluggy

from gluellm import hookspecs
from gluellm._markers import PROJECT_NAME
from gluellm.errors import LLMError

if TYPE_CHECKING:
    import importlib.metadata

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")

Middleware: TypeAlias = Callable[
    [_Request, Callable[[_Request], Awaitable[_Response]]], Awaitable[_Response]
]
"""``async (request, call_next) -> response``: what ``wrap_*`` hooks return."""

_TRUE = {"1", "true", "yes"}


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


class PluginConflictWarning(UserWarning):
    """Two plugins registered the same name (a provider, tool, workflow or store)."""


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
class PluginLoadFailure:
    """A plugin that was found but skipped, and why."""

    name: str
    distribution: str | None
    error: str


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


@attrs.frozen
class PluginInfo:
    """What ``gluellm plugins`` shows about one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    failures: tuple[HookFailure, ...] = ()


class PluginManager(pluggy.PluginManager):
    """Pluggy's manager plus the bookkeeping GlueLLM reports on.

    Attributes:
        load_failures: Plugins found but skipped, and why.
        hook_failures: ``(plugin, hook)`` -> how often that implementation raised.
        generation: Grows on every register and unregister, so caches built from
            hooks (a runtime's transports and tools) know when to rebuild.
    """

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.load_failures: list[PluginLoadFailure] = []
        self.hook_failures: dict[tuple[str, str], HookFailure] = {}
        self.switched_off: list[str] = []
        """Entry points installed but not loaded because of GLUELLM_LOAD/DISABLE_PLUGINS."""
        self.generation = 0
        self._distributions: dict[str, importlib.metadata.Distribution] = {}
        self._configure_kwargs: dict[str, Any] | None = None
        self._tracing = False
        self._batch: list[object] | None = None  # plugins awaiting the end-of-batch check
        self._strict = False
        self._failures_lock = threading.Lock()
        # hook name -> implementations in calling order, for `generation` (see `_impls`).
        self._impls_cache: dict[str, tuple[Any, ...]] = {}
        self._impls_generation = -1
        self.add_hookspecs(hookspecs)
        # Historic: every plugin's add_hookspecs runs when it registers, now or later.
        self.hook.add_hookspecs.call_historic(kwargs={"pluginmanager": self})

    def configure_plugins(self, settings: Any) -> None:
        """Fire ``configure`` for every plugin, now and for plugins registered later.

        Each plugin is called on its own: one that raises is logged and skipped, and
        the others are still configured (pluggy's historic call would stop at it).
        """
        self._configure_kwargs = {"settings": settings}
        call_each(self, "configure", **self._configure_kwargs)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin``, run its ``add_hookspecs``, check its hooks.

        Outside a `batch` (and after entry points have loaded), a plugin implementing
        a hook no registered plugin defines is refused at once: register the plugin
        that adds a hookspec before the plugins implementing it, or register them
        together inside `batch`.

        Raises:
            PluginError: The plugin implements an unknown hook, or its
                ``add_hookspecs`` raised; it is left unregistered.
        """
        label = name or repr(plugin)
        try:
            registered = super().register(plugin, name)
        except Exception as error:
            # Pluggy validates before changing state, but a historic replay (this
            # plugin's add_hookspecs) runs after: leave no half-registered plugin.
            if self.is_registered(plugin):
                label = self.get_name(plugin) or label
                self.unregister(plugin)
            if isinstance(error, (PluginError, pluggy.PluginValidationError)):
                raise  # names the plugin at fault already
            raise self._hook_error(label, "add_hookspecs", error) from error
        if registered is None:  # a blocked name
            return None
        self.generation += 1
        if self._batch is not None:
            self._batch.append(plugin)
            return registered
        unknown = self._unknown_hooks(plugin)
        if unknown:
            self.unregister(plugin)
            message = _unknown_hook_message(registered, unknown, self._spec_names())
            raise PluginError(message, plugin_name=registered)
        self._configure_late(plugin)
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin (by object or name) and all its hook implementations."""
        removed = super().unregister(plugin, name)
        self.generation += 1
        return removed

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Register several plugins, checking their hook names once at the end.

        Inside the block plugins may implement hooks that a plugin registered later in
        the block adds. When the block ends, plugins implementing unknown hooks are
        unregistered and one `PluginError` names each of them.

        Raises:
            PluginError: Some plugins implement hooks that no plugin defines.
        """
        with self._batching() as problems:
            yield
        if problems:
            raise PluginError(
                "\n".join(message for _, message in problems), plugin_name=problems[0][0]
            )

    def check_pending(self) -> None:
        """Raise `PluginError` naming every hook implementation without a hookspec.

        Pluggy's own ``check_pending`` stops at the first one and gives no hint.
        """
        problems = [
            _unknown_hook_message(
                self.get_name(plugin) or repr(plugin), unknown, self._spec_names()
            )
            for plugin in self.get_plugins()
            if (unknown := self._unknown_hooks(plugin))
        ]
        if problems:
            raise PluginError("\n".join(sorted(problems)))

    def add_hookspecs(self, module_or_class: Any) -> None:
        """Add hookspecs; drop plugins whose earlier implementations do not fit them.

        A plugin may implement a hook before the plugin defining it has registered.
        When that implementation takes arguments the hookspec lacks, that plugin alone
        is named and dropped (or, in strict mode, the error is fatal), instead of the
        hookspec's plugin failing.
        """
        for hook_name in dir(module_or_class):
            opts = self.parse_hookspec_opts(module_or_class, hook_name)
            caller = getattr(self.hook, hook_name, None)
            if opts is None or caller is None or caller.has_spec():
                continue
            accepted = set(inspect.signature(getattr(module_or_class, hook_name)).parameters)
            for impl in caller.get_hookimpls():
                extra = sorted(set(impl.argnames) - accepted)
                if extra:
                    self._drop_late(
                        impl.plugin,
                        f"plugin {impl.plugin_name!r} implements hook {hook_name!r} with "
                        f"argument(s) {', '.join(extra)} that its hookspec does not have",
                    )
        super().add_hookspecs(module_or_class)

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

    def plugin_infos(self) -> list[PluginInfo]:
        """One entry per registered plugin that implements at least one hook."""
        infos = []
        for name, plugin in self.list_name_plugin():
            hooks = tuple(sorted(caller.name for caller in self.get_hookcallers(plugin) or ()))
            if not hooks:
                continue
            dist = self._distributions.get(name)
            failures = tuple(f for (p, _), f in sorted(self.hook_failures.items()) if p == name)
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=dist.metadata["Name"] if dist else None,
                    version=dist.version if dist else None,
                    hooks=hooks,
                    failures=failures,
                )
            )
        return infos

    def load_entrypoints(self, env: Mapping[str, str] | None = None) -> None:
        """Load the plugins of the ``gluellm`` entry-point group that ``env`` allows.

        Hook names are checked once, after the last plugin has loaded.
        """
        env = os.environ if env is None else env
        only = _name_set(env.get("GLUELLM_LOAD_PLUGINS"))
        disabled = _name_set(env.get("GLUELLM_DISABLE_PLUGINS")) or set()
        self._strict = env.get("GLUELLM_STRICT_PLUGINS", "").lower() in _TRUE
        if env.get("GLUELLM_TRACE_PLUGINS", "").lower() in _TRUE:
            self.trace.root.setwriter(sys.stderr.write)
            self.enable_tracing()
        try:
            with self._batching() as problems:
                # Imported here: importlib.metadata costs ~30 ms, and `import gluellm`
                # (or a client given its own plugin manager) may never load entry points.
                import importlib.metadata

                for entry_point in importlib.metadata.entry_points(group=PROJECT_NAME):
                    dist = entry_point.dist
                    dist_name = dist.metadata["Name"] if dist else None
                    names = {entry_point.name, dist_name}
                    if (only is not None and not names & only) or names & disabled:
                        self.switched_off.append(entry_point.name)
                        continue
                    if self.has_plugin(entry_point.name):
                        continue
                    if dist is not None:
                        self._distributions[entry_point.name] = dist
                    try:
                        plugin = entry_point.load()
                        self.register(plugin, name=entry_point.name)
                    except KeyboardInterrupt:
                        raise
                    except BaseException as error:  # sys.exit() at import included
                        if self._strict and isinstance(error, PluginError):
                            raise  # already the fatal error, naming the plugin at fault
                        self._load_failed(entry_point.name, _describe(error), error)
            for name, message in problems:
                self._load_failed(name, message, None)
        finally:
            self._strict = False

    # --- internals -------------------------------------------------------------

    @contextlib.contextmanager
    def _batching(self) -> Iterator[list[tuple[str, str]]]:
        """Defer hook-name checks to the block's end; then list ``(plugin, problem)``."""
        if self._batch is not None:  # nested: the outer block checks
            yield []
            return
        pending: list[object] = []
        self._batch = pending
        problems: list[tuple[str, str]] = []
        try:
            yield problems
        finally:
            self._batch = None
            for plugin in pending:
                name = self.get_name(plugin)
                if name is None:  # unregistered meanwhile
                    continue
                unknown = self._unknown_hooks(plugin)
                if unknown:
                    self.unregister(plugin)
                    message = _unknown_hook_message(name, unknown, self._spec_names())
                    problems.append((name, message))
                else:
                    self._configure_late(plugin)

    def _configure_late(self, plugin: object) -> None:
        if self._configure_kwargs is not None:  # configured already: this one joins late
            call_each(self, "configure", only=plugin, **self._configure_kwargs)

    def _load_failed(self, name: str, error: str, cause: BaseException | None) -> None:
        dist = self._distributions.pop(name, None)
        failure = PluginLoadFailure(name, dist.metadata["Name"] if dist else None, error)
        if self._strict:
            raise PluginError(_failure_message(failure, strict=True), plugin_name=name) from cause
        self.load_failures.append(failure)
        warnings.warn(_failure_message(failure, strict=False), PluginLoadWarning, stacklevel=3)

    def _drop_late(self, plugin: object, problem: str) -> None:
        name = self.get_name(plugin) or repr(plugin)
        self.unregister(plugin)
        self._load_failed(name, problem, None)

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

    def _spec_names(self) -> list[str]:
        return [name for name, caller in vars(self.hook).items() if caller.has_spec()]

    def _unknown_hooks(self, plugin: object) -> list[str]:
        return [
            caller.name
            for caller in self.get_hookcallers(plugin) or ()
            if not caller.has_spec()
            and not any(i.optionalhook for i in caller.get_hookimpls() if i.plugin is plugin)
        ]


def create_plugin_manager(
    *, load_entrypoints: bool = True, env: Mapping[str, str] | None = None
) -> PluginManager:
    """A new plugin manager, with the installed plugins loaded unless told otherwise.

    Args:
        load_entrypoints: Load plugins from the ``gluellm`` entry-point group.
        env: Environment to read the ``GLUELLM_*_PLUGINS`` variables from.
    """
    manager = PluginManager()
    if load_entrypoints:
        manager.load_entrypoints(env)
    return manager


# --- calling hooks one implementation at a time ----------------------------------


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
    traced = _traced(manager)
    for impl in _impls(manager, hook_name):
        if only is not None and impl.plugin is not only:
            continue
        try:
            if traced:
                result = _call(manager, hook_name, impl, kwargs)
            else:  # inline: observers run on every call
                result = impl.function(*[kwargs[name] for name in impl.argnames])
            results.append((impl.plugin_name, result))
        except Exception as error:
            _log_failure(manager, impl.plugin_name, hook_name, error)
    return results


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
    traced = _traced(manager)
    for impl in _impls(manager, hook_name):
        try:
            if traced:
                middleware = _call(manager, hook_name, impl, kwargs)
            else:  # inline: asked on every call
                middleware = impl.function(*[kwargs[name] for name in impl.argnames])
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
    return [
        named_middleware(manager, plugin_name, hook_name, middleware)
        for plugin_name, middleware in collect_middleware(manager, hook_name, **kwargs)
    ]


def first_middleware(
    manager: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> Middleware[Any, Any] | None:
    """The first plugin's non-None middleware from a pick-one hook, named.

    For ``get_retrier`` and ``get_rate_limiter``: like pluggy's firstresult call, but
    a plugin that raises, or whose middleware raises, is named in a `PluginError`.

    Args:
        manager: The plugin manager.
        hook_name: A firstresult hook returning middleware.
        **kwargs: The hook's arguments.
    """
    traced = _traced(manager)
    for impl in _impls(manager, hook_name):
        try:
            if traced:
                middleware = _call(manager, hook_name, impl, kwargs)
            else:  # inline: asked on every call
                middleware = impl.function(*[kwargs[name] for name in impl.argnames])
        except Exception as error:
            raise _hook_error(manager, impl.plugin_name, hook_name, error) from error
        if middleware is not None:
            return named_middleware(manager, impl.plugin_name, hook_name, middleware)
    return None


def _impls(manager: pluggy.PluginManager, hook_name: str) -> Sequence[Any]:
    """The hook's implementations in pluggy's calling order (last registered first).

    Cached per plugin generation: pluggy copies its list on every ``get_hookimpls()``,
    and the pipeline asks for several hooks on every call.
    """
    if not isinstance(manager, PluginManager):
        return getattr(manager.hook, hook_name).get_hookimpls()[::-1]  # type: ignore[no-any-return]
    if manager._impls_generation != manager.generation:
        manager._impls_cache.clear()
        manager._impls_generation = manager.generation
    found = manager._impls_cache.get(hook_name)
    if found is None:
        impls = getattr(manager.hook, hook_name).get_hookimpls()[::-1]
        found = manager._impls_cache[hook_name] = tuple(impls)
    return found


def _traced(manager: pluggy.PluginManager) -> bool:
    """Whether hook calls are traced (``GLUELLM_TRACE_PLUGINS``): then they go through `_call`."""
    return isinstance(manager, PluginManager) and manager._tracing


def _call(
    manager: pluggy.PluginManager, hook_name: str, impl: Any, kwargs: Mapping[str, Any]
) -> Any:
    """Call one implementation with the arguments it names, as pluggy would; traced."""
    args = [kwargs[name] for name in impl.argnames]
    if not _traced(manager):
        return impl.function(*args)
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
    if isinstance(manager, PluginManager):
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
    if isinstance(manager, PluginManager):
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


def _name_set(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _failure_message(failure: PluginLoadFailure, *, strict: bool) -> str:
    source = f" (distribution {failure.distribution})" if failure.distribution else ""
    error = failure.error.rstrip(".")
    if strict:
        return (
            f"GlueLLM plugin {failure.name!r}{source} failed to load: {error}. "
            "GLUELLM_STRICT_PLUGINS is set, so this is fatal. Fix or uninstall the plugin, "
            f"or set GLUELLM_DISABLE_PLUGINS={failure.name}."
        )
    return (
        f"GlueLLM plugin {failure.name!r}{source} failed to load and was skipped: "
        f"{error}. Fix or uninstall it, or set GLUELLM_DISABLE_PLUGINS={failure.name}."
    )


def _unknown_hook_message(plugin_name: str, unknown: list[str], known: list[str]) -> str:
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    return (
        f"plugin {plugin_name!r} implements unknown hook(s) {', '.join(parts)}. "
        f"Known hooks: {', '.join(sorted(known))}."
    )
