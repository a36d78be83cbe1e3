"""Registries built from plugins: the later registration wins, conflicts are warned
about, and plugins registered after the first call are seen."""

from __future__ import annotations

import warnings

import pytest

from gluellm import hookimpl
from gluellm.plugins import PluginConflictWarning
from gluellm.runtime import Runtime
from gluellm.testing import FunctionTransport


class Serves:
    """A plugin serving ``provider`` with a transport that answers its own name."""

    def __init__(self, name: str, provider: str = "shared") -> None:
        self.name = name
        self.provider = provider
        self.built = 0

    @hookimpl
    def register_transports(self, register):
        def factory():
            self.built += 1
            return FunctionTransport(lambda call: self.name)

        register(self.provider, factory)


class Offers:
    """A plugin offering a tool, a workflow and an eval store under fixed names."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def register_tools(self, register):
        def lookup() -> str:
            """Say who registered this tool."""
            return "ok"

        lookup.__doc__ = f"Registered by {self.name}."
        register(lookup)

    @hookimpl
    def register_workflows(self, register):
        register("pipeline", self.name)

    @hookimpl
    def register_eval_stores(self, register):
        register("jsonl", self.name)


def test_the_later_registered_provider_wins_and_the_conflict_names_both(plugin_manager):
    plugin_manager.register(Serves("first"), name="first")
    plugin_manager.register(Serves("second"), name="second")
    runtime = Runtime(plugin_manager)
    with pytest.warns(PluginConflictWarning) as caught:
        providers = runtime.transport_providers()
    assert providers == {"shared": "second"}
    [warning] = caught
    message = str(warning.message)
    assert "registered by plugins 'second' and 'first'" in message
    assert "'second' wins" in message
    assert "provider 'shared'" in message


def test_later_registration_wins_for_tools_workflows_and_eval_stores(plugin_manager):
    plugin_manager.register(Offers("early"), name="early")
    plugin_manager.register(Offers("late"), name="late")
    runtime = Runtime(plugin_manager)
    with pytest.warns(PluginConflictWarning) as caught:
        registries = (runtime.tools, runtime.workflows, runtime.eval_stores)
    tools, workflows, eval_stores = registries
    assert tools["lookup"].description.startswith("Registered by late")
    assert workflows == {"pipeline": "late"}
    assert eval_stores == {"jsonl": "late"}
    kinds = sorted(str(w.message).split(" ", 1)[0] for w in caught)
    assert kinds == ["eval", "tool", "workflow"]


def test_one_plugin_registering_a_name_twice_is_no_conflict(plugin_manager):
    class Twice:
        @hookimpl
        def register_workflows(self, register):
            register("flow", 1)
            register("flow", 2)

    plugin_manager.register(Twice(), name="twice")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Runtime(plugin_manager).workflows == {"flow": 2}


def test_a_plugin_that_raises_midway_registers_nothing(plugin_manager):
    class HalfDone:
        @hookimpl
        def register_transports(self, register):
            register("half", lambda: FunctionTransport(lambda call: "half"))
            raise RuntimeError("gave up")

    plugin_manager.register(HalfDone(), name="half-done")
    runtime = Runtime(plugin_manager)
    assert runtime.transport_providers() == {}
    failure = plugin_manager.hook_failures["half-done", "register_transports"]
    assert failure.count == 1
    assert failure.last_error == "RuntimeError: gave up"


async def test_a_plugin_registered_after_the_first_call_gets_its_transports_and_tools(
    plugin_manager, runtime
):
    from gluellm.api import complete

    plugin_manager.register(Serves("one", provider="one"), name="one")
    assert (await complete("hi", model="one:m")).final_response == "one"
    assert "lookup" not in runtime.tools

    plugin_manager.register(Serves("two", provider="two"), name="two")
    plugin_manager.register(Offers("late"), name="late")
    assert (await complete("hi", model="two:m")).final_response == "two"
    assert "lookup" in runtime.tools
    assert runtime.workflows == {"pipeline": "late"}


async def test_a_provider_taken_over_after_the_first_call_uses_the_new_plugin(
    plugin_manager, runtime
):
    from gluellm.api import complete

    first = Serves("first")
    plugin_manager.register(first, name="first")
    assert (await complete("hi", model="shared:m")).final_response == "first"

    plugin_manager.register(Serves("second"), name="second")
    with pytest.warns(PluginConflictWarning, match="'second' wins"):
        assert (await complete("hi", model="shared:m")).final_response == "second"

    plugin_manager.unregister(name="second")
    assert (await complete("hi", model="shared:m")).final_response == "first"
    assert first.built == 2  # rebuilt once it served the provider again


async def test_an_unchanged_provider_keeps_its_built_transport(plugin_manager, runtime):
    from gluellm.api import complete

    serves = Serves("only", provider="only")
    plugin_manager.register(serves, name="only")
    await complete("hi", model="only:m")
    plugin_manager.register(Offers("other"), name="other")
    await complete("hi", model="only:m")
    assert serves.built == 1


def test_unregistering_a_plugin_removes_what_it_registered(plugin_manager):
    plugin_manager.register(Offers("gone"), name="gone")
    runtime = Runtime(plugin_manager)
    assert "lookup" in runtime.tools
    plugin_manager.unregister(name="gone")
    assert runtime.tools == {}
    assert runtime.workflows == {}
    assert runtime.eval_stores == {}
