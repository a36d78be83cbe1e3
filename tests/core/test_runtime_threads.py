"""Runtimes used from several threads: each event loop keeps and closes its own clients."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from gluellm import hookimpl
from gluellm.api import complete
from gluellm.call import ModelCall, ModelResponse
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime


class PerLoopTransport:
    """Holds one 'client' per event loop, like the SDK transports; records closes."""

    def __init__(self) -> None:
        self.clients: dict[int, str] = {}
        self.closed: list[int] = []

    async def complete(self, call: ModelCall) -> ModelResponse:
        loop = id(asyncio.get_running_loop())
        self.clients.setdefault(loop, "open")
        assert self.clients[loop] == "open", "a client was used after its loop closed it"
        return ModelResponse(content="ok", finish_reason="stop")

    async def aclose(self) -> None:
        loop = id(asyncio.get_running_loop())
        if self.clients.get(loop) == "open":
            self.clients[loop] = "closed"
            self.closed.append(loop)


def make_runtime() -> tuple[Runtime, list[PerLoopTransport]]:
    built: list[PerLoopTransport] = []

    class Provider:
        @hookimpl
        def register_transports(self, register: Any) -> None:
            def factory() -> PerLoopTransport:
                built.append(PerLoopTransport())
                return built[-1]

            register("loops", factory)

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Provider())
    return Runtime(manager), built


def test_closing_the_runtime_on_one_loop_leaves_another_threads_clients_working():
    runtime, built = make_runtime()
    first_call_done = threading.Event()
    closed_elsewhere = threading.Event()
    results: list[str] = []

    async def long_lived() -> None:
        results.append((await complete("a", model="loops:x", runtime=runtime)).final_response)
        first_call_done.set()
        await asyncio.to_thread(closed_elsewhere.wait)
        results.append((await complete("b", model="loops:x", runtime=runtime)).final_response)

    thread = threading.Thread(target=lambda: asyncio.run(long_lived()))
    thread.start()
    first_call_done.wait(10)

    async def short_lived() -> None:
        await complete("c", model="loops:x", runtime=runtime)
        await runtime.aclose()

    asyncio.run(short_lived())
    closed_elsewhere.set()
    thread.join(10)
    assert results == ["ok", "ok"]
    [transport] = built  # one transport, shared by both loops, never rebuilt
    assert len(transport.closed) == 2  # each loop closed its own client, once
    assert all(state == "closed" for state in transport.clients.values())


def test_first_calls_from_many_threads_share_one_transport():
    runtime, built = make_runtime()

    def call() -> None:
        asyncio.run(complete("hi", model="loops:x", runtime=runtime))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert runtime.transport_for("loops") in built
    kept = runtime.transport_for("loops")
    assert isinstance(kept, PerLoopTransport)
    assert len(kept.clients) == 8  # every loop's client went to the transport that was kept
