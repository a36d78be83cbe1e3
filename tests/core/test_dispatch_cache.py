"""The pipeline's cached view of which hooks are implemented follows plugin (un)registration."""

from __future__ import annotations

import asyncio

from gluellm import hookimpl
from gluellm.api import complete
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import ScriptedTransport, reply


class Provider:
    def __init__(self) -> None:
        self.transport = ScriptedTransport()

    @hookimpl
    def register_transports(self, register):
        register("scripted", lambda: self.transport)


class Observer:
    def __init__(self) -> None:
        self.ended: list[str] = []
        self.wrapped: list[str] = []

    @hookimpl
    def on_call_end(self, call, response, error, duration_s, runtime):
        self.ended.append(call.model)

    @hookimpl
    def wrap_call(self, call, runtime):
        async def middleware(call, call_next):
            self.wrapped.append(call.model)
            return await call_next(call)

        return middleware


def test_implements_is_cached_until_plugins_change():
    manager = create_plugin_manager(load_entrypoints=False)
    runtime = Runtime(manager)
    assert not runtime.implements("on_call_end")
    observer = Observer()
    manager.register(observer, name="observer")
    assert runtime.implements("on_call_end")
    assert runtime.implements("wrap_call")
    assert not runtime.implements("get_retrier")
    manager.unregister(observer)
    assert not runtime.implements("on_call_end")


async def test_a_plugin_registered_between_calls_sees_the_next_call_and_not_after_removal():
    manager = create_plugin_manager(load_entrypoints=False)
    provider = Provider()
    manager.register(provider, name="provider")
    runtime = Runtime(manager)
    provider.transport.add(reply("one"), reply("two"), reply("three"))
    observer = Observer()
    with use_runtime(runtime):
        await complete("hi", model="scripted:m")  # nobody observes: cached as such
        manager.register(observer, name="observer")
        await complete("hi", model="scripted:m")
        manager.unregister(observer)
        await complete("hi", model="scripted:m")
    assert observer.ended == ["scripted:m"]
    assert observer.wrapped == ["scripted:m"]
    assert len(provider.transport.calls) == 3
    await runtime.aclose()


class Layers:
    """A retrier and a limiter; ``fresh`` makes a new limiter layer on every call."""

    def __init__(self, *, fresh: bool = False) -> None:
        self.fresh = fresh
        self.passes: list[str] = []
        self.retrier = self._layer("retrier")
        self.limiter = self._layer("limiter")

    def _layer(self, name):
        async def layer(call, call_next):
            self.passes.append(name)
            return await call_next(call)

        return layer

    @hookimpl
    def get_retrier(self, call, runtime):
        return self.retrier

    @hookimpl
    def get_rate_limiter(self, call, runtime):
        return self._layer("limiter") if self.fresh else self.limiter


def _runtime_with(*plugins):
    manager = create_plugin_manager(load_entrypoints=False)
    provider = Provider()
    manager.register(provider, name="provider")
    for number, plugin in enumerate(plugins):
        manager.register(plugin, name=f"plugin-{number}")
    return Runtime(manager), provider.transport


async def test_calls_reuse_the_chain_composed_from_the_same_layers():
    layers = Layers()
    runtime, transport = _runtime_with(layers)
    transport.add(*(reply(str(n)) for n in range(5)))
    with use_runtime(runtime):
        await complete("hi", model="scripted:m")
        cached = dict(runtime.layers)
        for _ in range(4):
            await complete("hi", model="scripted:m")
    # Nothing new was composed: the same dispatch, attempt handler and chain.
    assert runtime.layers == cached
    assert len(cached) == 3
    assert layers.passes == ["retrier", "limiter"] * 5


async def test_a_plugin_returning_a_new_layer_every_call_is_used_each_time_and_bounded():
    layers = Layers(fresh=True)
    runtime, transport = _runtime_with(layers)
    transport.add(*(reply(str(n)) for n in range(200)))
    with use_runtime(runtime):
        for _ in range(200):
            await complete("hi", model="scripted:m")
    assert layers.passes == ["retrier", "limiter"] * 200
    assert len(runtime.layers) <= 64 + 3


async def test_the_chain_is_rebuilt_when_plugins_change():
    first, second = Layers(), Observer()
    runtime, transport = _runtime_with(first)
    transport.add(reply("one"), reply("two"))
    with use_runtime(runtime):
        await complete("hi", model="scripted:m")
        runtime.plugin_manager.unregister(first)
        runtime.plugin_manager.register(second, name="observer")
        await complete("hi", model="scripted:m")
    assert first.passes == ["retrier", "limiter"]  # not used once unregistered
    assert second.wrapped == ["scripted:m"]


async def test_use_runtime_scopes_nest_and_reach_tasks_started_inside():
    from gluellm.runtime import get_runtime

    outer, inner = (
        Runtime(create_plugin_manager(load_entrypoints=False)),
        Runtime(create_plugin_manager(load_entrypoints=False)),
    )
    with use_runtime(outer) as entered:
        assert entered is outer
        assert get_runtime() is outer
        with use_runtime(inner):
            assert get_runtime() is inner
            seen_in_task = await asyncio.create_task(_current_runtime())
        assert get_runtime() is outer
    assert seen_in_task is inner
    assert get_runtime() not in (outer, inner)


async def _current_runtime():
    from gluellm.runtime import get_runtime

    return get_runtime()
