"""The call pipeline's fixed order, observers and timeouts."""

from __future__ import annotations

import asyncio

import pytest

from gluellm import hookimpl
from gluellm.api import complete
from gluellm.call import ModelCall
from gluellm.errors import APITimeoutError, ConfigurationError
from gluellm.testing import FunctionTransport, reply

from .conftest import MODEL


def _layer(name, log):
    async def middleware(call, call_next):
        log.append(f"{name} in")
        response = await call_next(call)
        log.append(f"{name} out")
        return response

    return middleware


class Layers:
    def __init__(self, log):
        self.log = log

    @hookimpl
    def get_retrier(self, call):
        return _layer("retrier", self.log)

    @hookimpl
    def get_rate_limiter(self, call):
        return _layer("limiter", self.log)


class Middleware:
    def __init__(self, name, log):
        self.name, self.log = name, log

    @hookimpl
    def wrap_call(self, call):
        return _layer(self.name, self.log)


async def test_layers_run_in_the_documented_order(plugin_manager, scripted):
    log: list[str] = []

    def transport_step(call):
        log.append("transport")
        return "done"

    scripted.add(transport_step)
    plugin_manager.register(Layers(log))
    plugin_manager.register(Middleware("inner", log), name="inner")
    plugin_manager.register(Middleware("outer", log), name="outer")  # registered last: first result
    await complete("hi", model=MODEL)
    assert log == [
        "outer in", "inner in", "retrier in", "limiter in", "transport",
        "limiter out", "retrier out", "inner out", "outer out",
    ]  # fmt: skip


async def test_without_plugins_calls_go_straight_to_the_transport(scripted):
    scripted.add("hello")
    result = await complete("hi", model=MODEL)
    assert result.final_response == "hello"
    assert len(scripted.calls) == 1


async def test_middleware_can_change_the_call(plugin_manager, scripted):
    import attrs

    class AddOption:
        @hookimpl
        def wrap_call(self, call):
            async def middleware(call, call_next):
                return await call_next(attrs.evolve(call, options={"temperature": 0}))

            return middleware

    plugin_manager.register(AddOption())
    scripted.add("ok")
    await complete("hi", model=MODEL)
    assert scripted.calls[0].options == {"temperature": 0}


async def test_observers_see_success_and_failure_and_their_errors_never_escape(
    plugin_manager, scripted
):
    seen = []

    class Observer:
        @hookimpl
        def on_call_end(self, call, response, error, duration_s):
            seen.append((response.content if response else None, type(error).__name__))
            raise RuntimeError("observer bug")

    plugin_manager.register(Observer())
    scripted.add("fine", ConnectionError("down"))
    assert (await complete("one", model=MODEL)).final_response == "fine"
    with pytest.raises(ConnectionError):
        await complete("two", model=MODEL)
    assert seen == [("fine", "NoneType"), (None, "ConnectionError")]


async def test_each_attempt_is_bounded_by_the_timeout(runtime):
    from gluellm.runtime import override_transport

    async def slow(call: ModelCall):
        await asyncio.sleep(5)
        return reply("late")

    with (
        override_transport(FunctionTransport(slow)),
        pytest.raises(APITimeoutError, match=r"did not answer within 0\.05 s"),
    ):
        await complete("hi", model="any:model", timeout=0.05)


async def test_unknown_provider_lists_installed_transports(scripted):
    with pytest.raises(ConfigurationError) as info:
        await complete("hi", model="nowhere:model")
    message = str(info.value)
    assert "'nowhere'" in message
    assert "Transports loaded: scripted" in message
    assert "pip install gluellm-plugins-anyllm" in message


async def test_model_without_provider_says_how_to_write_it(scripted):
    with pytest.raises(ConfigurationError, match="'provider:model'"):
        await complete("hi", model="gpt-4o")


async def test_transport_is_built_once_and_closed_on_shutdown(plugin_manager, runtime):
    built = []

    class Closing(FunctionTransport):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    class Provider:
        @hookimpl
        def register_transports(self, register):
            def factory():
                built.append(Closing(lambda call: "ok"))
                return built[-1]

            register("closing", factory)

    events = []

    class Lifecycle:
        @hookimpl
        def shutdown(self, runtime):
            async def later():
                events.append("shutdown awaited")

            return later()

    plugin_manager.register(Provider())
    plugin_manager.register(Lifecycle())
    await complete("a", model="closing:m")
    await complete("b", model="closing:m")
    assert len(built) == 1
    await runtime.aclose()
    assert built[0].closed
    assert events == ["shutdown awaited"]


async def test_startup_runs_once_before_the_first_call(plugin_manager, scripted):
    events = []

    class Lifecycle:
        @hookimpl
        def startup(self, runtime):
            events.append("startup")

    plugin_manager.register(Lifecycle())
    scripted.add("a", "b")
    await asyncio.gather(complete("1", model=MODEL), complete("2", model=MODEL))
    assert events == ["startup"]


async def test_plugins_see_the_runtime_a_client_was_given():
    from gluellm.api import GlueLLM
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, get_runtime

    from .conftest import ScriptedProvider

    seen = []

    class LooksUpRuntime:
        @hookimpl
        def get_retrier(self, call):
            seen.append(get_runtime())

    manager = create_plugin_manager(load_entrypoints=False)
    provider = ScriptedProvider()
    manager.register(provider)
    manager.register(LooksUpRuntime())
    provider.transport.add("ok")
    own = Runtime(manager)
    await GlueLLM(model=MODEL, runtime=own).complete("hi")
    assert seen == [own]


class EndObserver:
    def __init__(self):
        self.seen = []

    @hookimpl
    def on_call_end(self, call, response, error, duration_s):
        self.seen.append((response, error))


def _stream_call(**overrides):
    from gluellm.call import ModelCall

    fields = {"model": MODEL, "provider": "scripted", "model_name": "test-model"}
    return ModelCall(
        messages=[{"role": "user", "content": "hi"}], stream=True, **fields | overrides
    )


async def test_observers_see_a_stream_when_it_ends_with_its_usage(
    plugin_manager, scripted, runtime
):
    from gluellm.pipeline import run_call

    observer = EndObserver()
    plugin_manager.register(observer)
    scripted.add(reply("one two three", usage=(4, 3)))
    response = await run_call(_stream_call(), runtime)
    assert observer.seen == []  # nothing is known before the stream is read
    chunks = [delta.content async for delta in response.stream if delta.content]
    assert "".join(chunks).split() == ["one", "two", "three"]
    [(turn, error)] = observer.seen
    assert error is None
    assert turn.content.split() == ["one", "two", "three"]
    assert turn.usage.total_tokens == 7


async def test_observers_hear_of_a_stream_dropped_unread_and_unclosed(
    plugin_manager, scripted, runtime
):
    import gc

    from gluellm.pipeline import run_call

    observer = EndObserver()
    plugin_manager.register(observer)
    scripted.add("never read")
    response = await run_call(_stream_call(), runtime)
    del response
    gc.collect()
    [(turn, error)] = observer.seen  # a tracer's span for the call ends too
    assert (turn.finish_reason, error) == ("incomplete", None)


async def test_closing_an_unread_stream_closes_the_transport_stream(
    plugin_manager, scripted, runtime
):
    from gluellm.pipeline import run_call

    observer = EndObserver()
    plugin_manager.register(observer)
    scripted.add("never read")
    response = await run_call(_stream_call(), runtime)
    await response.stream.aclose()
    assert scripted.streams[0].closed
    [(turn, error)] = observer.seen
    assert (turn.finish_reason, turn.content, error) == ("incomplete", None, None)


async def test_a_stream_that_stalls_times_out_per_chunk(plugin_manager, scripted, runtime):
    from gluellm.pipeline import run_call
    from gluellm.testing import streamed

    observer = EndObserver()
    plugin_manager.register(observer)
    scripted.add(streamed("slow words here", delay=5))
    response = await run_call(_stream_call(timeout=0.05), runtime)
    with pytest.raises(APITimeoutError, match=r"did not send the next chunk within 0\.05 s"):
        async for _ in response.stream:
            pass
    assert scripted.streams[0].closed
    assert isinstance(observer.seen[0][1], APITimeoutError)


async def test_observers_see_a_stream_cut_midway(plugin_manager, scripted, runtime):
    from gluellm.errors import APIConnectionError
    from gluellm.pipeline import run_call
    from gluellm.testing import streamed

    observer = EndObserver()
    plugin_manager.register(observer)
    scripted.add(streamed("a b c d e", cut_after=2))
    response = await run_call(_stream_call(), runtime)
    with pytest.raises(APIConnectionError):
        async for _ in response.stream:
            pass
    [(turn, error)] = observer.seen
    assert turn is None
    assert isinstance(error, APIConnectionError)


def test_transport_clients_are_closed_before_their_event_loop_ends(plugin_manager):
    from gluellm.runtime import Runtime, use_runtime

    closed_on = []

    class LoopBound(FunctionTransport):
        async def aclose(self) -> None:
            closed_on.append(asyncio.get_running_loop())

    transport = LoopBound(lambda call: "ok")

    class Provider:
        @hookimpl
        def register_transports(self, register):
            register("bound", lambda: transport)

    plugin_manager.register(Provider())
    runtime = Runtime(plugin_manager)
    loops = []

    async def main():
        loops.append(asyncio.get_running_loop())
        await complete("a", model="bound:m")
        await complete("b", model="bound:m")

    with use_runtime(runtime):
        asyncio.run(main())
        asyncio.run(main())
    assert closed_on == loops  # once per loop, while that loop was still running
    assert len(set(map(id, loops))) == 2
