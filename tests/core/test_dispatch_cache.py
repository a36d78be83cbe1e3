"""The pipeline's cached view of which hooks are implemented follows plugin (un)registration."""

from __future__ import annotations

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
