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

Core calls most hooks one implementation at a time (`gluellm.hook_calls`, whose
names are re-exported here), so a plugin that raises is named: observers' failures are
logged once per plugin and hook and counted after that; middleware failures reach the
caller as `PluginError`. Every failure is recorded in `PluginManager.hook_failures`
and shown by ``gluellm plugins``.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pluggy

from gluellm import hookspecs
from gluellm._markers import PROJECT_NAME
from gluellm.hook_calls import (
    BasePluginManager,
    HookFailure,
    Middleware,
    PluginError,
    _describe,
    call_each,
    collect_middleware,
    first_middleware,
    named_middleware,
    plugin_middleware,
)

__all__ = [
    "HookFailure",
    "Middleware",
    "PluginConflictWarning",
    "PluginError",
    "PluginInfo",
    "PluginLoadFailure",
    "PluginLoadWarning",
    "PluginManager",
    "call_each",
    "collect_middleware",
    "create_plugin_manager",
    "first_middleware",
    "named_middleware",
    "plugin_middleware",
]

_TRUE = {"1", "true", "yes"}


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


class PluginConflictWarning(UserWarning):
    """Two plugins registered the same name (a provider, tool, workflow or store)."""


@attrs.frozen
class PluginLoadFailure:
    """A plugin that was found but skipped, and why."""

    name: str
    distribution: str | None
    error: str


@attrs.frozen
class PluginInfo:
    """What ``gluellm plugins`` shows about one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    failures: tuple[HookFailure, ...] = ()


class PluginManager(BasePluginManager):
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
        self.switched_off: list[str] = []
        """Entry points installed but not loaded because of GLUELLM_LOAD/DISABLE_PLUGINS."""
        self._configure_kwargs: dict[str, Any] | None = None
        self._batch: list[object] | None = None  # plugins awaiting the end-of-batch check
        self._strict = False
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
