"""A broken plugin is named, isolated and shown: middleware, observers, `gluellm plugins`."""

from __future__ import annotations

import asyncio
import json

import pytest
from loguru import logger
from typer.testing import CliRunner

from gluellm import hookimpl
from gluellm.cli import build_app
from gluellm.errors import LLMError, RateLimitError
from gluellm.plugins import (
    PluginError,
    call_each,
    collect_middleware,
    first_middleware,
    named_middleware,
    plugin_middleware,
)


@pytest.fixture
def log_records():
    records = []
    handler_id = logger.add(records.append, level="DEBUG", format="{message}")
    try:
        yield records
    finally:
        logger.remove(handler_id)


class RaisesInHook:
    @hookimpl
    def wrap_call(self, call):
        raise ValueError("cannot build my middleware")


class Layer:
    """A plugin whose wrap_call middleware records its name, then calls on."""

    def __init__(self, name, seen):
        self.name = name
        self.seen = seen

    @hookimpl
    def wrap_call(self, call):
        async def layer(call, call_next):
            self.seen.append(self.name)
            return await call_next(call)

        return layer


def _failing_middleware(exc):
    async def middleware(request, call_next):
        raise exc

    return middleware


async def _answer(request):
    return f"answer to {request}"


# --- collecting middleware --------------------------------------------------------


def test_a_hook_implementation_that_raises_is_named_in_the_error(plugin_manager):
    plugin_manager.register(RaisesInHook(), name="bad")
    with pytest.raises(PluginError) as caught:
        collect_middleware(plugin_manager, "wrap_call", call="the call")
    error = caught.value
    assert str(error).startswith(
        "plugin 'bad' failed in hook wrap_call: ValueError: cannot build my middleware"
    )
    assert "GLUELLM_DISABLE_PLUGINS=bad" in str(error)
    assert (error.plugin_name, error.hook_name) == ("bad", "wrap_call")
    assert isinstance(error.__cause__, ValueError)
    assert plugin_manager.hook_failures["bad", "wrap_call"].count == 1


async def test_plugin_middleware_is_outermost_first_and_skips_none(plugin_manager):
    seen = []

    class StaysOut:
        @hookimpl
        def wrap_call(self, call):
            return None

    plugin_manager.register(Layer("registered first", seen), name="a")
    plugin_manager.register(StaysOut(), name="out")
    plugin_manager.register(Layer("registered last", seen), name="b")
    assert [name for name, _ in collect_middleware(plugin_manager, "wrap_call", call=1)] == [
        "b",
        "a",
    ]

    handler = _answer
    for middleware in reversed(plugin_middleware(plugin_manager, "wrap_call", call=1)):
        handler = _compose(middleware, handler)
    assert await handler("q") == "answer to q"
    assert seen == ["registered last", "registered first"]


def _compose(middleware, inner):
    async def handler(request):
        return await middleware(request, inner)

    return handler


# --- errors raised inside middleware -------------------------------------------------


async def test_an_error_from_the_middlewares_own_code_names_the_plugin(plugin_manager):
    middleware = named_middleware(
        plugin_manager, "tracer", "wrap_call", _failing_middleware(KeyError("span"))
    )
    with pytest.raises(PluginError) as caught:
        await middleware("q", _answer)
    assert str(caught.value).startswith("plugin 'tracer' failed in hook wrap_call: KeyError")
    assert isinstance(caught.value.__cause__, KeyError)
    assert plugin_manager.hook_failures["tracer", "wrap_call"].count == 1


@pytest.mark.parametrize(
    "inner_error",
    [RateLimitError("slow down"), ValueError("the tool itself failed")],
    ids=["provider LLMError", "tool error"],
)
async def test_errors_from_call_next_pass_through_untouched(plugin_manager, inner_error):
    async def reraising(request, call_next):
        try:
            return await call_next(request)
        except Exception:
            raise  # a middleware that observes and re-raises

    async def failing_next(request):
        raise inner_error

    middleware = named_middleware(plugin_manager, "observer", "wrap_tool", reraising)
    with pytest.raises(type(inner_error)) as caught:
        await middleware("q", failing_next)
    assert caught.value is inner_error
    assert plugin_manager.hook_failures == {}


async def test_an_llm_error_raised_on_purpose_passes_through(plugin_manager):
    class OverBudget(LLMError):
        pass

    middleware = named_middleware(
        plugin_manager, "budget", "wrap_run", _failing_middleware(OverBudget("no money"))
    )
    with pytest.raises(OverBudget):
        await middleware("q", _answer)
    assert plugin_manager.hook_failures == {}


async def test_an_inner_error_rewrapped_by_the_plugin_is_attributed_to_it(plugin_manager):
    async def rewrapping(request, call_next):
        try:
            return await call_next(request)
        except ValueError as error:
            raise TypeError("my own bug while handling it") from error

    async def failing_next(request):
        raise ValueError("inner")

    middleware = named_middleware(plugin_manager, "sloppy", "wrap_call", rewrapping)
    with pytest.raises(PluginError, match="plugin 'sloppy' failed in hook wrap_call: TypeError"):
        await middleware("q", failing_next)


async def test_an_inner_plugins_error_keeps_its_name_through_outer_layers(plugin_manager):
    inner = named_middleware(plugin_manager, "inner", "wrap_call", _failing_middleware(OSError()))
    outer = named_middleware(
        plugin_manager, "outer", "wrap_call", lambda request, call_next: call_next(request)
    )
    with pytest.raises(PluginError, match="plugin 'inner'"):
        await outer("q", lambda request: inner(request, _answer))
    assert list(plugin_manager.hook_failures) == [("inner", "wrap_call")]


async def test_cancellation_is_never_attributed(plugin_manager):
    middleware = named_middleware(
        plugin_manager, "p", "wrap_call", _failing_middleware(asyncio.CancelledError())
    )
    with pytest.raises(asyncio.CancelledError):
        await middleware("q", _answer)
    assert plugin_manager.hook_failures == {}


async def test_first_middleware_takes_the_first_non_none_and_names_its_failures(plugin_manager):
    class NoRetries:
        @hookimpl
        def get_retrier(self, call):
            return None

    class Retries:
        @hookimpl
        def get_retrier(self, call):
            return _failing_middleware(ZeroDivisionError("bad backoff"))

    plugin_manager.register(Retries(), name="retries")
    plugin_manager.register(NoRetries(), name="no-retries")  # asked first: returns None
    middleware = first_middleware(plugin_manager, "get_retrier", call="c")
    assert middleware is not None
    with pytest.raises(PluginError, match="plugin 'retries' failed in hook get_retrier"):
        await middleware("q", _answer)
    plugin_manager.unregister(name="retries")
    assert first_middleware(plugin_manager, "get_retrier", call="c") is None


class _RaisesInGetRetrier:
    @hookimpl
    def get_retrier(self, call):
        raise ValueError("hook broke")


class _LimiterRaisesOfItsOwn:
    @hookimpl
    def get_rate_limiter(self, call):
        async def limited(call, send):
            raise KeyError("limiter broke")

        return limited


@pytest.mark.parametrize(
    ("plugin", "hook", "cause"),
    [
        (_RaisesInGetRetrier(), "get_retrier", ValueError),
        (_LimiterRaisesOfItsOwn(), "get_rate_limiter", KeyError),
    ],
    ids=["in-the-hook", "in-its-layer"],
)
async def test_a_retry_or_limit_plugin_failing_in_a_real_call_is_named(
    plugin_manager, scripted, plugin, hook, cause
):
    from gluellm.api import complete

    from .conftest import MODEL

    scripted.add("never sent")
    plugin_manager.register(plugin, name="broken-layer")
    with pytest.raises(PluginError, match=f"plugin 'broken-layer' failed in hook {hook}") as info:
        await complete("hi", model=MODEL)
    assert isinstance(info.value.__cause__, cause)
    assert scripted.calls == []


class _PassingLayers:
    """A retrier, a limiter and a call layer that only pass calls and errors on."""

    def __init__(self, seen):
        self.seen = seen

    def _layer(self, name):
        async def layer(call, call_next):
            try:
                return await call_next(call)
            except Exception as error:
                self.seen.append((name, type(error).__name__))
                raise

        return layer

    @hookimpl
    def get_retrier(self, call):
        return self._layer("retrier")

    @hookimpl
    def get_rate_limiter(self, call):
        return self._layer("limiter")

    @hookimpl
    def wrap_call(self, call):
        return self._layer("wrap_call")


async def test_a_transport_error_passes_every_named_layer_of_a_real_call_untouched(
    plugin_manager, scripted
):
    # The pipeline names its layers without wrapping what they call: an error that
    # comes up from the transport is known by the frames it passed through.
    from gluellm.api import complete

    from .conftest import MODEL

    seen = []
    broken = ValueError("the transport itself broke")
    scripted.add(broken)
    plugin_manager.register(_PassingLayers(seen), name="passing")
    with pytest.raises(ValueError, match="the transport itself broke") as info:
        await complete("hi", model=MODEL)
    assert info.value is broken
    assert seen == [
        ("limiter", "ValueError"),
        ("retrier", "ValueError"),
        ("wrap_call", "ValueError"),
    ]
    assert plugin_manager.hook_failures == {}


class _RewrapsInItsLayer:
    @hookimpl
    def get_retrier(self, call):
        async def retrier(call, send):
            try:
                return await send(call)
            except ValueError as error:
                raise RuntimeError("gave up badly") from error

        return retrier


async def test_a_layer_that_rewraps_a_transport_error_in_a_real_call_is_named(
    plugin_manager, scripted
):
    from gluellm.api import complete

    from .conftest import MODEL

    scripted.add(ValueError("the transport broke"))
    plugin_manager.register(_RewrapsInItsLayer(), name="rewrapper")
    with pytest.raises(PluginError, match="plugin 'rewrapper' failed in hook get_retrier") as info:
        await complete("hi", model=MODEL)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_collecting_middleware_is_traced(plugin_manager, capsys):
    plugin_manager.register(Layer("x", []), name="layer")
    plugin_manager.trace.root.setwriter(lambda text: print(text, end=""))
    plugin_manager.enable_tracing()
    collect_middleware(plugin_manager, "wrap_call", call="the call")
    assert "wrap_call [layer]" in capsys.readouterr().out


# --- observers ------------------------------------------------------------------------


def test_an_observer_failure_is_logged_once_then_counted(plugin_manager, log_records):
    called = []

    class Broken:
        @hookimpl
        def on_tool_call(self, execution):
            raise RuntimeError(f"broken observer #{execution}")

    class Works:
        @hookimpl
        def on_tool_call(self, execution):
            called.append(execution)

    plugin_manager.register(Works(), name="works")
    plugin_manager.register(Broken(), name="broken")
    for n in range(3):
        call_each(plugin_manager, "on_tool_call", execution=n)

    assert called == [0, 1, 2]  # the others are never skipped
    warnings = [r for r in log_records if r.record["level"].name == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].record["exception"] is not None  # the first one has its traceback
    assert "plugin 'broken' failed in hook on_tool_call" in warnings[0]
    later = [r for r in log_records if r.record["level"].name == "DEBUG"]
    assert len(later) == 2
    assert all(r.record["exception"] is None for r in later)
    failure = plugin_manager.hook_failures["broken", "on_tool_call"]
    assert (failure.count, failure.first_error, failure.last_error) == (
        3,
        "RuntimeError: broken observer #0",
        "RuntimeError: broken observer #2",
    )


# --- gluellm plugins ----------------------------------------------------------------


def test_gluellm_plugins_shows_a_plugin_failing_in_a_middleware_hook(plugin_manager):
    plugin_manager.register(RaisesInHook(), name="bad")
    for _ in range(2):
        with pytest.raises(PluginError):
            collect_middleware(plugin_manager, "wrap_call", call=None)
    app = build_app(plugin_manager)

    text = CliRunner().invoke(app, ["plugins"])
    assert text.exit_code == 0, text.output
    assert "bad (registered): wrap_call" in text.output
    assert "  FAILING in wrap_call (2 times): ValueError: cannot build my middleware" in (
        text.output
    )

    payload = json.loads(CliRunner().invoke(app, ["plugins", "--json"]).output)
    [bad] = payload["plugins"]
    assert bad["hook_failures"] == [
        {
            "hook": "wrap_call",
            "count": 2,
            "first_error": "ValueError: cannot build my middleware",
            "last_error": "ValueError: cannot build my middleware",
        }
    ]


def test_gluellm_plugins_runs_registration_hooks_so_a_broken_one_shows(plugin_manager):
    class BadRegistration:
        @hookimpl
        def register_tools(self, register):
            raise RuntimeError("tool module missing")

    class Healthy:
        @hookimpl
        def register_workflows(self, register):
            register("flow", object)

    plugin_manager.register(BadRegistration(), name="bad-tools")
    plugin_manager.register(Healthy(), name="healthy")
    result = CliRunner().invoke(build_app(plugin_manager), ["plugins", "--json"])
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert "hook_failures" not in plugins["healthy"]
    [failure] = plugins["bad-tools"]["hook_failures"]
    assert (failure["hook"], failure["count"]) == ("register_tools", 1)
    assert failure["last_error"] == "RuntimeError: tool module missing"
