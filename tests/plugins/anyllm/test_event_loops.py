"""Event loops in several threads each keep their own transport clients.

Ending one loop (an ``asyncio.run()`` in a worker thread) closes that loop's clients and
nothing else: a long-lived loop in another thread keeps its client, and so its open
connection, which the fake server sees as the same peer. When every loop has ended, no
connection is left open and nothing warns about an unclosed client session.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

from gluellm.api import complete
from gluellm.runtime import Runtime
from gluellm_plugins_mock.fake_server import FakeProviderServer

from .conftest import make_runtime

OPENAI = "openai:gpt-4o-mini"


class Leaks:
    """Everything that reports an unclosed client: warnings and asyncio's logger."""

    def __init__(self) -> None:
        self.records: list[str] = []


@pytest.fixture
def leaks() -> Iterator[Leaks]:
    found = Leaks()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.records.append(record.getMessage())

    handler = Handler()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
        gc.collect()  # an unclosed aiohttp session complains when it is collected
    asyncio_logger.removeHandler(handler)
    found.records.extend(str(w.message) for w in caught)


def unclosed(leaks: Leaks) -> list[str]:
    return [text for text in leaks.records if "nclosed" in text]


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread; re-raise the first failure here."""
    failures: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:
                failures.append(error)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]


def wait_until(condition: Callable[[], bool], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def no_open_connection(server: FakeProviderServer) -> bool:
    """Whether every connection this test's requests used is closed (other tests' aside)."""
    used = {r.peer for r in server.requests}
    return not used & server.open_peers


def peers_by_message(server: FakeProviderServer) -> dict[str, tuple[str, int] | None]:
    return {str(r.messages[-1]["content"]): r.peer for r in server.chat_requests}


@pytest.mark.usefixtures("stack")
def test_ending_one_loop_leaves_another_loops_clients_alone(
    server: FakeProviderServer, leaks: Leaks
) -> None:
    runtime: Runtime = make_runtime()
    first_answered = threading.Event()
    other_loop_ended = threading.Event()

    def long_lived() -> None:
        async def main() -> None:
            await complete("one", model=OPENAI, runtime=runtime)
            first_answered.set()
            await asyncio.to_thread(other_loop_ended.wait, 30)
            await complete("two", model=OPENAI, runtime=runtime)
            await complete("three", model=OPENAI, runtime=runtime)

        asyncio.run(main())

    def short_lived() -> None:
        first_answered.wait(30)
        asyncio.run(complete("other", model=OPENAI, runtime=runtime))
        other_loop_ended.set()

    run_threads(long_lived, short_lived)

    peers = peers_by_message(server)
    assert peers["one"] is not None
    # The long-lived loop kept its client, so its connection, across the other's end.
    assert peers["one"] == peers["two"] == peers["three"]
    assert peers["other"] != peers["one"]
    assert wait_until(lambda: no_open_connection(server)), "a connection was left open"
    assert unclosed(leaks) == []


def test_many_loops_at_once_leave_nothing_open(server: FakeProviderServer, leaks: Leaks) -> None:
    runtime = make_runtime()
    server.latency = 0.02  # so that the loops really overlap

    def one_loop(name: str) -> Callable[[], None]:
        async def main() -> None:
            await asyncio.gather(
                *(complete(f"{name}-{i}", model=OPENAI, runtime=runtime) for i in range(3))
            )
            await complete(f"{name}-last", model=OPENAI, runtime=runtime)

        return lambda: asyncio.run(main())

    run_threads(*(one_loop(f"loop{n}") for n in range(6)))

    assert len(server.chat_requests) == 6 * 4
    peers = peers_by_message(server)
    # Each loop's last call reused one of that loop's connections.
    for n in range(6):
        own = {peers[f"loop{n}-{i}"] for i in range(3)}
        assert peers[f"loop{n}-last"] in own
    assert wait_until(lambda: no_open_connection(server)), "a connection was left open"
    assert unclosed(leaks) == []


async def test_a_long_lived_loop_reuses_its_connection(server: FakeProviderServer) -> None:
    runtime = make_runtime()
    try:
        for i in range(5):
            await complete(f"call {i}", model=OPENAI, runtime=runtime)
    finally:
        await runtime.aclose()

    assert len({r.peer for r in server.chat_requests}) == 1
