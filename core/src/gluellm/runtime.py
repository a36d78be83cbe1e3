"""The runtime: a plugin manager plus the registries built from its hooks.

One default runtime (entry-point plugins, current settings) serves every call unless
a caller scopes another one with `use_runtime`, which is how tests run GlueLLM against
a plugin manager of their own.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextvars import ContextVar, Token
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from gluellm.errors import ConfigurationError
from gluellm.plugins import PluginManager, call_each, create_plugin_manager

if TYPE_CHECKING:
    import asyncio

    from gluellm.call import Transport
    from gluellm.config import PluginSettings, Settings
    from gluellm.tools import Tool

S = TypeVar("S")

TRANSPORT_INSTALL_HINT = "pip install gluellm-plugins-anyllm"


class Runtime:
    """Registries of transports, tools, workflows and eval stores from one plugin manager.

    Args:
        plugin_manager: The manager to use; by default one with every installed plugin.
        settings: Fixed settings; by default the current ``gluellm.config.settings``.
        plugin_settings: Fixed instances of plugins' settings classes, returned by
            `settings_for` instead of reading the environment (tests, embedding apps).
    """

    def __init__(
        self,
        plugin_manager: PluginManager | None = None,
        settings: Settings | None = None,
        plugin_settings: Sequence[PluginSettings] = (),
    ) -> None:
        self.plugin_manager = plugin_manager or create_plugin_manager()
        self._settings = settings
        self._plugin_settings: dict[type[Any], Any] = {type(s): s for s in plugin_settings}
        self._transport_factories: dict[str, tuple[str, Callable[[], Transport]]] | None = None
        self._transports: dict[str, Transport] = {}
        self._tools: dict[str, Tool] | None = None
        self._named: dict[str, dict[str, Any]] = {}
        self._registry_generation = -1  # the plugin_manager.generation the registries match
        self._implemented: dict[str, bool] = {}  # hook name -> implemented, see `implements`
        self._implemented_generation = -1
        self._configured = False
        self._started = False
        self._starting: asyncio.Future[None] | None = None  # the startup in progress
        # One finalizer per event loop, closing that loop's transport clients (see below).
        self._loop_finalizers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()
        self._watched: weakref.ref[asyncio.AbstractEventLoop] | None = None  # the last one
        self._warm_ups: list[Callable[[], object]] = []  # see `add_warm_up`
        self.layers: dict[object, Any] = {}
        """The pipeline's composed call layers, reused from call to call while they are the
        same objects (see `gluellm.pipeline`); emptied when plugins change."""
        self.layers_generation = -1

    @property
    def settings(self) -> Settings:
        """The settings this runtime reads: fixed ones, or the current global ones."""
        if self._settings is not None:
            return self._settings
        settings: Settings = (_config or _load_config()).settings
        return settings

    def configure(self) -> None:
        """Fire the ``configure`` hook once; later-registered plugins get it on register."""
        if self._configured:
            return
        self._configured = True
        from gluellm.logging_config import configure_default_logging

        configure_default_logging(self.settings)  # once per process; see logging_config
        self.plugin_manager.configure_plugins(self.settings)
        from gluellm.setting_owners import warn_unread

        read = {name for cls in self.settings_classes() for name in cls.reads}
        warn_unread(self.settings, read)

    def settings_for(self, settings_class: type[S]) -> S:
        """This runtime's instance of a plugin's settings class, read on first use.

        Args:
            settings_class: A `gluellm.config.PluginSettings` subclass.
        """
        found = self._plugin_settings.get(settings_class)
        if found is None:
            found = self._plugin_settings[settings_class] = settings_class()
        return found

    def settings_classes(self) -> list[type[PluginSettings]]:
        """The settings classes plugins declared through ``register_settings``."""
        classes: list[type[PluginSettings]] = []
        for _plugin_name, register in self._registrars("register_settings"):
            register(classes.append)
        return classes

    def implements(self, hook_name: str) -> bool:
        """Whether any loaded plugin implements ``hook_name``.

        Cached until a plugin is registered or unregistered (the plugin manager's
        ``generation``): pluggy's ``get_hookimpls()`` copies a list on every call, and
        the pipeline asks this for every layer of every call.

        Args:
            hook_name: A hook's name (``wrap_call``, ``get_retrier`` ...).
        """
        if self._implemented_generation != self.plugin_manager.generation:
            self._implemented = {}
            self._implemented_generation = self.plugin_manager.generation
        found = self._implemented.get(hook_name)
        if found is None:
            caller = getattr(self.plugin_manager.hook, hook_name)
            found = self._implemented[hook_name] = bool(caller.get_hookimpls())
        return found

    # --- transports ----------------------------------------------------------

    def transport_providers(self) -> dict[str, str]:
        """Provider name -> the plugin that registered its transport."""
        return {name: plugin for name, (plugin, _) in self._factories().items()}

    def transport_for(self, provider: str) -> Transport:
        """The transport serving ``provider``, built on first use.

        Raises:
            ConfigurationError: No installed plugin serves ``provider``.
        """
        override = _transport_override.get()
        if override is not None:
            return override
        self._sync_with_plugins()
        transport = self._transports.get(provider)
        if transport is not None:
            return transport
        entry = self._factories().get(provider)
        if entry is None:
            installed = ", ".join(sorted(self._factories())) or "none"
            off = self.plugin_manager.switched_off
            if off:
                fix = (
                    f"Installed plugins are switched off here ({', '.join(sorted(off))}) by "
                    "GLUELLM_LOAD_PLUGINS or GLUELLM_DISABLE_PLUGINS: unset them, or name the "
                    "transport's plugin in GLUELLM_LOAD_PLUGINS."
                )
            else:
                fix = f"Install one with: {TRANSPORT_INSTALL_HINT}"
            raise ConfigurationError(
                f"No transport serves provider {provider!r}. Transports loaded: {installed}. " + fix
            )
        # setdefault: two threads' first calls must end up sharing one transport, or the
        # clients of the one dropped would never be closed.
        transport = self._transports.setdefault(provider, entry[1]())
        return transport

    def _factories(self) -> dict[str, tuple[str, Callable[[], Transport]]]:
        self._sync_with_plugins()
        if self._transport_factories is None:
            self._transport_factories = self._registry(
                "register_transports",
                "provider",
                lambda offer: lambda provider, factory: offer(provider.lower(), factory),
            )
        return self._transport_factories

    # --- tools, workflows, eval stores -----------------------------------------

    @property
    def tools(self) -> dict[str, Tool]:
        """Tools registered by plugins, by name."""
        self._sync_with_plugins()
        if self._tools is None:
            from gluellm.tools import Tool

            entries = self._registry(
                "register_tools",
                "tool",
                lambda offer: lambda fn: offer(fn.__name__, Tool.from_function(fn)),
            )
            self._tools = {name: tool for name, (_, tool) in entries.items()}
        return self._tools

    @property
    def workflows(self) -> dict[str, Any]:
        """Workflow classes registered by plugins, by name."""
        return self._named_registry("register_workflows")

    @property
    def eval_stores(self) -> dict[str, Any]:
        """Eval-store factories registered by plugins, by name."""
        return self._named_registry("register_eval_stores")

    def _named_registry(self, hook_name: str) -> dict[str, Any]:
        self._sync_with_plugins()
        if hook_name not in self._named:
            what = hook_name.removeprefix("register_").removesuffix("s").replace("_", " ")
            entries = self._registry(hook_name, what, lambda offer: offer)
            self._named[hook_name] = {name: obj for name, (_, obj) in entries.items()}
        return self._named[hook_name]

    def _registry(
        self,
        hook_name: str,
        what: str,
        adapt: Callable[[Callable[[str, Any], None]], Callable[..., None]],
    ) -> dict[str, tuple[str, Any]]:
        """Run every plugin's registration hook: name -> (plugin, what it registered).

        Plugins run in pluggy's order, the last registered first, and the first plugin
        to offer a name keeps it: a later registration wins, as ``hooks.md`` says. A
        name offered by two plugins is warned about, naming both and the winner. A
        plugin whose hook raises is skipped whole (nothing it offered is kept).

        Args:
            hook_name: ``register_transports``, ``register_tools`` ...
            what: What the names are, for the conflict warning ("provider", "tool").
            adapt: Turns ``offer(name, obj)`` into the ``register`` callback the hook
                documents.
        """
        from gluellm.plugins import PluginConflictWarning

        entries: dict[str, tuple[str, Any]] = {}
        for plugin_name, run in self._registrars(hook_name):
            offered: dict[str, Any] = {}
            if not run(adapt(offered.__setitem__)):
                continue
            for name, obj in offered.items():
                held = entries.setdefault(name, (plugin_name, obj))
                if held[0] != plugin_name:
                    warnings.warn(
                        f"{what} {name!r} is registered by plugins {held[0]!r} and "
                        f"{plugin_name!r}; {held[0]!r} wins (the later registration takes "
                        f"precedence). To use {plugin_name!r}'s, disable the other: "
                        f"GLUELLM_DISABLE_PLUGINS={held[0]}.",
                        PluginConflictWarning,
                        stacklevel=2,
                    )
        return entries

    def _registrars(self, hook_name: str) -> Iterator[tuple[str, Callable[[Any], bool]]]:
        """Yield one ``register`` runner per plugin, in pluggy's order (last registered first).

        Each runner calls that plugin's implementation alone (traced under
        ``GLUELLM_TRACE_PLUGINS``) and returns whether it succeeded; a failure is
        logged once per plugin and hook, counted in ``plugin_manager.hook_failures``,
        and the plugin skipped.
        """
        manager = self.plugin_manager
        for impl in reversed(getattr(manager.hook, hook_name).get_hookimpls()):

            def run(register: Any, _plugin: object = impl.plugin) -> bool:
                return bool(call_each(manager, hook_name, only=_plugin, register=register))

            yield impl.plugin_name, run

    def _sync_with_plugins(self) -> None:
        """Rebuild the registries if plugins were registered or unregistered since.

        A transport already built for a provider that another plugin now serves is
        kept under a retired key only so that closing the runtime still closes it.
        """
        generation = self.plugin_manager.generation
        if generation == self._registry_generation:
            return
        self._registry_generation = generation
        previous = self._transport_factories
        self._transport_factories = self._tools = None
        self._named = {}
        if previous is None or not self._transports:
            return
        current = self._factories()
        for provider in [p for p in self._transports if p in previous]:
            if current.get(provider, ("",))[0] != previous[provider][0]:
                retired = f"{provider} (replaced at plugin generation {generation})"
                self._transports[retired] = self._transports.pop(provider)

    # --- lifecycle -----------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether `startup` has run (the first call through the pipeline runs it)."""
        return self._started

    async def startup(self) -> None:
        """Fire ``configure`` and ``startup`` once; await what plugins return.

        Concurrent first calls share one startup and all wait for it to finish.
        """
        if self._started or _in_startup.get():  # a call made by a startup hook: go on
            return
        import asyncio

        starting = self._starting
        loop = asyncio.get_running_loop()
        if starting is None or starting.done() or starting.get_loop() is not loop:
            # None yet, or one that was cancelled, or one on a loop that has gone away.
            starting = self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(starting)

    async def _start(self) -> None:
        _in_startup.set(True)  # this task's own context only
        self.configure()
        await _await_all(call_each(self.plugin_manager, "startup", runtime=self))
        self._started = True

    def add_warm_up(self, wait: Callable[[], object]) -> None:
        """Register background work a plugin started that ``gluellm.warmup()`` waits for.

        Calls never wait for it (a plugin's ``startup`` returns at once and a price
        lookup, say, finishes the import itself if it must). A server calling
        ``warmup()`` at boot, though, wants its first requests free of the work
        competing for the interpreter.

        Args:
            wait: Blocks until the work is done (``thread.join``, ``event.wait`` ...);
                ``warmup()`` calls it in a worker thread, once.
        """
        self._warm_ups.append(wait)

    async def finish_warm_ups(self) -> None:
        """Wait for the work registered with `add_warm_up`; failures are logged."""
        import asyncio

        pending, self._warm_ups = self._warm_ups, []
        for wait in pending:
            try:
                await asyncio.to_thread(wait)
            except Exception:
                from loguru import logger

                logger.exception("a plugin's background warm-up {!r} failed", wait)

    def ready_here(self) -> bool:
        """Whether calls on the running event loop can go straight on.

        True once the runtime has started and `watch_loop` has seen this loop; callers
        await `startup` and `watch_loop` only when it is False.
        """
        watched = self._watched
        if not self._started or watched is None:
            return False
        # Watched, so a call ran: asyncio is imported. Looked up in sys.modules, not by an
        # import statement (this runs on every call), and not imported at module level:
        # `import gluellm` stays free of asyncio (a third of its import time).
        return watched() is sys.modules["asyncio"].get_running_loop()

    async def watch_loop(self) -> None:
        """Close this loop's transport clients when the loop shuts down.

        SDK clients are bound to the event loop that made them. ``asyncio.run()`` (and
        pytest-asyncio) finalize live async generators before closing their loop, so a
        suspended generator per loop gets to close the clients while the loop still
        runs: no "Unclosed client session" warnings, no leaked connections.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        watched = self._watched
        if watched is not None and watched() is loop:  # every call asks: keep it cheap
            return
        if loop in self._loop_finalizers:
            self._watched = weakref.ref(loop)
            return
        self._watched = weakref.ref(loop)
        finalizer = self._close_on_loop_shutdown()
        self._loop_finalizers[loop] = finalizer
        await anext(finalizer)  # first step on this loop: the loop now tracks it

    async def _close_on_loop_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self._close_transports()

    async def _close_transports(self) -> None:
        """Close what every built transport holds on the running loop; keep the transports."""
        for transport in {id(t): t for t in self._transports.values()}.values():
            try:
                await transport.aclose()
            except Exception:
                from loguru import logger

                logger.exception("closing transport {!r} failed", transport)

    async def aclose(self) -> None:
        """Close this loop's transport clients, then fire ``shutdown``.

        The transports stay: loops in other threads still use their own clients, which
        each loop closes when it shuts down (see `watch_loop`); forgetting the transports
        here would strand those clients unclosed.
        """
        await self._close_transports()
        await _await_all(call_each(self.plugin_manager, "shutdown", runtime=self))
        self._started = False
        self._starting = None


async def _await_all(results: list[tuple[str, Any]]) -> None:
    for plugin_name, result in results:
        if inspect.isawaitable(result):
            try:
                await result
            except Exception:
                from loguru import logger

                logger.exception(
                    "plugin {!r} failed while awaiting its lifecycle hook", plugin_name
                )


_config: ModuleType | None = None
"""`gluellm.config` once imported: `Runtime.settings` is read several times per call."""


def _load_config() -> ModuleType:
    # Imported on first use: it loads pydantic-settings, which `import gluellm` avoids.
    global _config
    from gluellm import config

    _config = config
    return config


_default_runtime: Runtime | None = None
_in_startup: ContextVar[bool] = ContextVar("gluellm_in_startup", default=False)
_scoped_runtime: ContextVar[Runtime | None] = ContextVar("gluellm_runtime", default=None)
_transport_override: ContextVar[Transport | None] = ContextVar(
    "gluellm_transport_override", default=None
)


def get_runtime() -> Runtime:
    """The runtime for the current context: a scoped one, else the shared default."""
    scoped = _scoped_runtime.get()
    if scoped is not None:
        return scoped
    global _default_runtime
    if _default_runtime is None:
        _default_runtime = Runtime()
        _default_runtime.configure()
    return _default_runtime


class use_runtime:  # lowercase: used like a function, as contextlib.suppress is
    """Run the calls made inside the block (and tasks started there) on ``runtime``.

    ``with use_runtime(runtime) as runtime: ...``. A class rather than a generator
    context manager: servers that host several runtimes scope every request with it.

    Args:
        runtime: The runtime for the calls made inside the block.
    """

    __slots__ = ("_runtime", "_token")

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._token: Token[Runtime | None] | None = None

    def __enter__(self) -> Runtime:
        self._runtime.configure()
        self._token = _scoped_runtime.set(self._runtime)
        return self._runtime

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _scoped_runtime.reset(self._token)
            self._token = None


@contextlib.contextmanager
def override_transport(transport: Transport) -> Iterator[Transport]:
    """Send every model call made inside the block to ``transport``, whatever the provider."""
    token = _transport_override.set(transport)
    try:
        yield transport
    finally:
        _transport_override.reset(token)


async def aclose_default_runtime() -> None:
    """Close the shared default runtime's transports; the next call builds a new one."""
    global _default_runtime
    runtime, _default_runtime = _default_runtime, None
    if runtime is not None:
        await runtime.aclose()
