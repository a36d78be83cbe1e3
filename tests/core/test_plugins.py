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


# --- hooks one plugin adds and another implements -------------------------------

SPEC_PROVIDER = """
import pluggy
from gluellm import hookimpl

hookspec = pluggy.HookspecMarker("gluellm")


class Specs:
    @staticmethod
    @hookspec
    def on_greeting(name):
        '''A hook this plugin adds for other plugins.'''


@hookimpl
def add_hookspecs(pluginmanager):
    pluginmanager.add_hookspecs(Specs)
"""

SPEC_USER = """
from gluellm import hookimpl

@hookimpl
def on_greeting(name):
    return f"hello {name}"
"""


@pytest.mark.parametrize(
    "order", [("provider", "user"), ("user", "provider")], ids=["spec-first", "impl-first"]
)
def test_a_plugin_may_implement_another_plugins_hook_in_either_load_order(plugin_dist, order):
    sources = {"provider": SPEC_PROVIDER, "user": SPEC_USER}
    plugin_dist({name: sources[name] for name in order})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "provider,user"})
    assert manager.load_failures == []
    assert manager.hook.on_greeting(name="glue") == ["hello glue"]


def test_add_hookspecs_is_fired_for_plugins_registered_by_hand(plugin_manager):
    calls = []

    class Adds:
        @hookimpl
        def add_hookspecs(self, pluginmanager):
            calls.append(pluginmanager)

    plugin_manager.register(Adds(), name="adds")
    assert calls == [plugin_manager]


def test_a_plugin_whose_add_hookspecs_raises_is_named_and_left_out(plugin_manager):
    class Raises:
        @hookimpl
        def add_hookspecs(self, pluginmanager):
            raise RuntimeError("no specs today")

        @hookimpl
        def register_tools(self, register):
            pass

    with pytest.raises(PluginError, match="plugin 'raises' failed in hook add_hookspecs"):
        plugin_manager.register(Raises(), name="raises")
    assert not plugin_manager.has_plugin("raises")
    assert plugin_manager.hook.register_tools.get_hookimpls() == []


def test_an_implementation_that_does_not_fit_a_later_hookspec_drops_only_its_plugin(
    plugin_dist,
):
    misfit = SPEC_USER.replace("def on_greeting(name)", "def on_greeting(name, mood)")
    plugin_dist({"user": misfit, "provider": SPEC_PROVIDER})
    with pytest.warns(PluginLoadWarning, match=r"'user'.*argument\(s\) mood"):
        manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "provider,user"})
    assert manager.has_plugin("provider")
    assert not manager.has_plugin("user")
    assert [failure.name for failure in manager.load_failures] == ["user"]


def test_by_hand_unknown_hooks_are_checked_at_the_end_of_a_batch(plugin_manager):
    import types

    namespace: dict[str, object] = {}
    exec(SPEC_PROVIDER, namespace)  # the same source an entry point would load
    provider = types.SimpleNamespace(add_hookspecs=namespace["add_hookspecs"])

    class User:
        @hookimpl
        def on_greeting(self, name):
            return name

    with pytest.raises(PluginError, match="unknown hook"):
        plugin_manager.register(User(), name="too-early")
    with plugin_manager.batch():
        plugin_manager.register(User(), name="user")
        plugin_manager.register(provider, name="provider")
    assert plugin_manager.hook.on_greeting(name="x") == ["x"]


def test_a_batch_refuses_the_plugins_whose_hooks_stay_unknown(plugin_manager):
    class Typo:
        @hookimpl
        def wrap_cal(self, call):
            pass

    class Fine:
        @hookimpl
        def on_tool_call(self, execution):
            pass

    def register_both():
        with plugin_manager.batch():
            plugin_manager.register(Typo(), name="typo")
            plugin_manager.register(Fine(), name="fine")

    with pytest.raises(PluginError, match="did you mean 'wrap_call'"):
        register_both()
    assert {name for name, _ in plugin_manager.list_name_plugin()} == {"fine"}


def test_check_pending_names_every_unknown_hook(plugin_manager):
    class Optional:
        @hookimpl(optionalhook=True)
        def maybe_later(self):
            pass

    plugin_manager.register(Optional(), name="optional")
    plugin_manager.check_pending()  # an optional hook is not an error


# --- plugins that end the process at import, strict mode ----------------------------


@pytest.mark.parametrize(
    "source",
    ["import sys\nsys.exit(3)\n", "raise BaseException('very broken')\n"],
    ids=["sys.exit", "BaseException"],
)
def test_a_plugin_that_exits_at_import_is_named_and_skipped(plugin_dist, source):
    plugin_dist({"good": GOOD, "exits": source})
    with pytest.warns(PluginLoadWarning, match="'exits'"):
        manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "good,exits"})
    assert _names(manager) == {"good"}
    [failure] = manager.load_failures
    assert failure.name == "exits"
    assert failure.error.startswith(("SystemExit", "BaseException"))


def test_keyboard_interrupt_at_import_is_not_swallowed(plugin_dist):
    plugin_dist({"interrupted": "raise KeyboardInterrupt\n"})
    with pytest.raises(KeyboardInterrupt):
        create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "interrupted"})


def test_strict_mode_error_says_fatal_not_skipped(plugin_dist):
    plugin_dist({"broken": BROKEN})
    with pytest.raises(PluginError) as caught:
        create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "broken", "GLUELLM_STRICT_PLUGINS": "1"})
    message = str(caught.value)
    assert "skipped" not in message
    assert "GLUELLM_STRICT_PLUGINS" in message
    assert caught.value.plugin_name == "broken"


def test_strict_mode_makes_an_unknown_hook_fatal(plugin_dist):
    plugin_dist({"typo": TYPO})
    with pytest.raises(PluginError, match="did you mean 'register_tools'"):
        create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "typo", "GLUELLM_STRICT_PLUGINS": "1"})


# --- tracing --------------------------------------------------------------------------


def test_trace_plugins_shows_hooks_core_calls_plugin_by_plugin(plugin_dist, capsys):
    plugin_dist({"good": GOOD})
    manager = create_plugin_manager(
        env={"GLUELLM_LOAD_PLUGINS": "good", "GLUELLM_TRACE_PLUGINS": "1"}
    )
    capsys.readouterr()
    from gluellm.runtime import Runtime

    assert list(Runtime(manager).tools) == ["shout"]  # called one plugin at a time
    err = capsys.readouterr().err
    assert "register_tools [good]" in err
    assert "finish register_tools [good]" in err


def test_trace_plugins_shows_observer_calls(plugin_manager, capsys):
    from gluellm.plugins import call_each

    class Observer:
        @hookimpl
        def on_tool_call(self, execution):
            return "seen"

    plugin_manager.register(Observer(), name="observer")
    plugin_manager.trace.root.setwriter(lambda text: print(text, end=""))
    undo = plugin_manager.enable_tracing()
    call_each(plugin_manager, "on_tool_call", execution="an execution")
    undo()
    call_each(plugin_manager, "on_tool_call", execution="after undo")
    out = capsys.readouterr().out
    assert "on_tool_call [observer]" in out
    assert "execution: 'an execution'" in out
    assert "after undo" not in out


def test_call_each_passes_only_the_arguments_an_implementation_names(plugin_manager):
    from gluellm.plugins import call_each

    class TakesFewer:
        @hookimpl
        def on_retry(self, attempt):
            return attempt

    plugin_manager.register(TakesFewer(), name="fewer")
    results = call_each(plugin_manager, "on_retry", call=None, attempt=2, error=None, wait_s=0.1)
    assert results == [("fewer", 2)]
    assert plugin_manager.hook_failures == {}


def test_strict_mode_names_the_plugin_that_does_not_fit_a_later_hookspec(plugin_dist):
    misfit = SPEC_USER.replace("def on_greeting(name)", "def on_greeting(name, mood)")
    plugin_dist({"user": misfit, "provider": SPEC_PROVIDER})
    with pytest.raises(PluginError, match=r"plugin 'user' implements hook 'on_greeting'") as caught:
        create_plugin_manager(
            env={"GLUELLM_LOAD_PLUGINS": "provider,user", "GLUELLM_STRICT_PLUGINS": "1"}
        )
    assert caught.value.plugin_name == "user"


async def test_no_transport_with_plugins_switched_off_says_so_not_to_install(plugin_dist):
    from gluellm.api import complete
    from gluellm.errors import ConfigurationError
    from gluellm.runtime import Runtime, use_runtime

    plugin_dist(
        {
            "offtransport": """
                from gluellm import hookimpl

                @hookimpl
                def register_transports(register):
                    register("offprovider", lambda: None)
            """
        }
    )
    manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": ""})
    with use_runtime(Runtime(manager)), pytest.raises(ConfigurationError) as caught:
        await complete("hi", model="offprovider:model")
    message = str(caught.value)
    assert "switched off" in message
    assert "offtransport" in message
    assert "pip install" not in message
