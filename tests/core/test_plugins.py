"""Plugin discovery: entry points loaded one by one, env vars, unknown hooks."""

from __future__ import annotations

import warnings

import pytest

from gluellm import hookimpl
from gluellm.plugins import PluginError, PluginLoadWarning, create_plugin_manager

GOOD = """
from gluellm import hookimpl

@hookimpl
def register_tools(register):
    def shout(text: str) -> str:
        return text.upper()
    register(shout)
"""

BROKEN = """
raise RuntimeError("this plugin is broken on purpose")
"""

TYPO = """
from gluellm import hookimpl

@hookimpl
def register_tool(register):
    pass
"""


def _names(manager):
    return {info.name for info in manager.plugin_infos()}


def test_good_plugin_is_loaded_with_its_distribution_and_hooks(plugin_dist):
    plugin_dist({"good": GOOD})
    manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "good"})
    [info] = manager.plugin_infos()
    assert (info.name, info.distribution, info.version) == ("good", "gluellm-plugins-fake", "0.1")
    assert info.hooks == ("register_tools",)
    assert manager.load_failures == []


def test_broken_plugin_is_named_listed_and_skipped(plugin_dist):
    plugin_dist({"good": GOOD, "broken": BROKEN})
    with pytest.warns(PluginLoadWarning, match=r"'broken' \(distribution gluellm-plugins-fake\)"):
        manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "good,broken"})
    assert _names(manager) == {"good"}
    [failure] = manager.load_failures
    assert failure.name == "broken"
    assert "this plugin is broken on purpose" in failure.error


def test_strict_mode_makes_a_broken_plugin_fatal(plugin_dist):
    plugin_dist({"broken": BROKEN})
    with pytest.raises(PluginError, match="broken"):
        create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "broken", "GLUELLM_STRICT_PLUGINS": "1"})


def test_unknown_hook_name_fails_with_did_you_mean(plugin_dist):
    plugin_dist({"typo": TYPO})
    with pytest.warns(PluginLoadWarning, match="did you mean 'register_tools'"):
        manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "typo"})
    assert "typo" not in _names(manager)
    assert manager.load_failures[0].name == "typo"


def test_registering_a_typo_by_hand_raises(plugin_manager):
    class Typo:
        @hookimpl
        def on_tool_cal(self, execution):
            pass

    with pytest.raises(PluginError, match="did you mean 'on_tool_call'"):
        plugin_manager.register(Typo())
    assert plugin_manager.get_plugins() == set()


def test_empty_load_plugins_loads_none(plugin_dist):
    plugin_dist({"good": GOOD})
    manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": ""})
    assert manager.plugin_infos() == []


def test_load_plugins_accepts_distribution_names(plugin_dist):
    plugin_dist({"good": GOOD})
    manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "gluellm-plugins-fake"})
    assert "good" in _names(manager)


def test_disable_plugins_skips_named_plugins(plugin_dist):
    plugin_dist({"good": GOOD, "broken": BROKEN})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the broken one is never imported
        manager = create_plugin_manager(
            env={"GLUELLM_LOAD_PLUGINS": "good,broken", "GLUELLM_DISABLE_PLUGINS": "broken"}
        )
    assert _names(manager) == {"good"}


def test_trace_plugins_prints_hook_calls(plugin_dist, capsys):
    plugin_dist({"good": GOOD})
    manager = create_plugin_manager(
        env={"GLUELLM_LOAD_PLUGINS": "good", "GLUELLM_TRACE_PLUGINS": "1"}
    )
    manager.hook.register_tools(register=lambda fn: None)
    assert "register_tools" in capsys.readouterr().err


def test_registration_hooks_skip_a_plugin_that_raises(plugin_manager, runtime):
    class Broken:
        @hookimpl
        def register_tools(self, register):
            raise ValueError("boom")

    class Good:
        @hookimpl
        def register_tools(self, register):
            def ping() -> str:
                """Answer pong."""
                return "pong"

            register(ping)

    plugin_manager.register(Broken(), name="broken")
    plugin_manager.register(Good(), name="good")
    assert list(runtime.tools) == ["ping"]


def test_configure_reaches_every_plugin_even_after_one_raises(plugin_manager):
    from gluellm.runtime import Runtime

    configured = []

    class Raises:
        @hookimpl
        def configure(self, settings):
            raise RuntimeError("bad configure")

    class Records:
        def __init__(self, name):
            self.name = name

        @hookimpl
        def configure(self, settings):
            configured.append((self.name, settings.default_model))

    plugin_manager.register(Records("early"), name="early")
    plugin_manager.register(Raises(), name="raises")
    runtime = Runtime(plugin_manager)
    runtime.configure()
    plugin_manager.register(Raises(), name="raises-late")  # must not raise out of register
    plugin_manager.register(Records("late"), name="late")
    default = runtime.settings.default_model
    assert configured == [("early", default), ("late", default)]
