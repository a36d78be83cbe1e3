"""Finding, loading and listing plugins.

Plugins are found through the ``gluellm`` entry-point group and loaded one by one, so
a plugin that fails to import is named, listed and skipped instead of breaking every
call. Environment variables:

- ``GLUELLM_LOAD_PLUGINS``: unset loads all; empty loads none; a comma list loads only
  those (entry-point or distribution names).
- ``GLUELLM_DISABLE_PLUGINS``: comma list of plugins not to load.
- ``GLUELLM_STRICT_PLUGINS``: ``1`` makes a broken plugin a fatal error.
- ``GLUELLM_TRACE_PLUGINS``: ``1`` prints every hook call to stderr.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from gluellm import hookspecs
from gluellm._markers import PROJECT_NAME


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


class PluginError(Exception):
    """A plugin is broken: it failed to import or implements an unknown hook."""


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


class PluginManager(pluggy.PluginManager):
    """Pluggy's manager plus the bookkeeping GlueLLM reports on."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.load_failures: list[PluginLoadFailure] = []
        self._distributions: dict[str, importlib.metadata.Distribution] = {}
        self._configure_kwargs: dict[str, Any] | None = None

    def configure_plugins(self, settings: Any) -> None:
        """Fire ``configure`` for every plugin, now and for plugins registered later.

        Each plugin is called on its own: one that raises is logged and skipped, and
        the others are still configured (pluggy's historic call would stop at it).
        """
        self._configure_kwargs = {"settings": settings}
        call_each(self, "configure", **self._configure_kwargs)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin``; raise `PluginError` if it implements an unknown hook."""
        registered = super().register(plugin, name)
        unknown = self._unknown_hooks(plugin)
        if unknown:
            plugin_name = self.get_name(plugin) or repr(plugin)
            self.unregister(plugin)
            raise PluginError(_unknown_hook_message(plugin_name, unknown, self._spec_names()))
        if self._configure_kwargs is not None:  # configured already: this one joins late
            call_each(self, "configure", only=plugin, **self._configure_kwargs)
        return registered

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
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=dist.metadata["Name"] if dist else None,
                    version=dist.version if dist else None,
                    hooks=hooks,
                )
            )
        return infos

    def load_entrypoints(self, env: Mapping[str, str] | None = None) -> None:
        """Load the plugins of the ``gluellm`` entry-point group that ``env`` allows."""
        env = os.environ if env is None else env
        only = _name_set(env.get("GLUELLM_LOAD_PLUGINS"))
        disabled = _name_set(env.get("GLUELLM_DISABLE_PLUGINS")) or set()
        strict = env.get("GLUELLM_STRICT_PLUGINS", "") in {"1", "true", "yes"}
        for entry_point in importlib.metadata.entry_points(group=PROJECT_NAME):
            dist = entry_point.dist
            dist_name = dist.metadata["Name"] if dist else None
            names = {entry_point.name, dist_name}
            if (only is not None and not names & only) or names & disabled:
                continue
            if self.has_plugin(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
                self.register(plugin, name=entry_point.name)
            except Exception as error:  # a broken plugin must not break GlueLLM
                failure = PluginLoadFailure(
                    entry_point.name, dist_name, f"{type(error).__name__}: {error}"
                )
                if strict:
                    raise PluginError(_failure_message(failure)) from error
                self.load_failures.append(failure)
                warnings.warn(_failure_message(failure), PluginLoadWarning, stacklevel=2)
                continue
            if dist is not None:
                self._distributions[entry_point.name] = dist
        if env.get("GLUELLM_TRACE_PLUGINS", "") in {"1", "true", "yes"}:
            self.trace.root.setwriter(sys.stderr.write)
            self.enable_tracing()

    def _spec_names(self) -> list[str]:
        return [name for name, caller in vars(self.hook).items() if caller.spec is not None]

    def _unknown_hooks(self, plugin: object) -> list[str]:
        return [
            caller.name
            for caller in self.get_hookcallers(plugin) or ()
            if caller.spec is None and not any(impl.optionalhook for impl in caller.get_hookimpls())
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


def call_each(
    manager: pluggy.PluginManager, hook_name: str, only: object = None, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call every implementation of a hook alone; log and skip the ones that raise.

    Args:
        manager: The plugin manager.
        hook_name: The hook to call.
        only: Call only this plugin's implementation.
        **kwargs: The hook's arguments.

    Returns:
        ``(plugin name, result)`` for each implementation that returned normally.
    """
    from loguru import logger

    results = []
    caller = getattr(manager.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):  # pluggy's own order: last registered first
        if only is not None and impl.plugin is not only:
            continue
        try:
            results.append((impl.plugin_name, impl.function(**kwargs)))
        except Exception:
            logger.exception("plugin {!r} failed in hook {}; skipped", impl.plugin_name, hook_name)
    return results


def _name_set(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _failure_message(failure: PluginLoadFailure) -> str:
    source = f" (distribution {failure.distribution})" if failure.distribution else ""
    return (
        f"GlueLLM plugin {failure.name!r}{source} failed to load and was skipped: "
        f"{failure.error}. Fix or uninstall it, or set GLUELLM_DISABLE_PLUGINS={failure.name}."
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
