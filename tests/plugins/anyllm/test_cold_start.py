"""A fresh process's first call: the SDK import is not part of the per-attempt timeout.

Importing any-llm and building the first SDK client takes seconds (more without cached
bytecode). The transport's ``prepare``, which core awaits before the retry, rate-limit
and timeout layers, does that work in worker threads; the first request then takes
milliseconds. Each test runs ``python -c`` in a new process against the session's fake
server, with only the any-llm plugin loaded (no retries to hide a failed attempt).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

MODELS = ("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-20241022")

FIRST_CALL = """
import asyncio, sys
from gluellm.api import complete

async def main() -> None:
    result = await complete("hi", model=sys.argv[1], timeout=0.5)
    print("answer:", result.final_response)

asyncio.run(main())
"""

FIRST_STREAM = """
import asyncio, sys, time
from gluellm.api import stream_complete

async def main() -> None:
    first = None
    text = []
    async for chunk in stream_complete("Count.", model=sys.argv[1], timeout=0.5):
        if chunk.kind == "content":
            first = first or time.monotonic()
            text.append(chunk.content)
    print("first:", first)
    print("words:", len("".join(text).split()))

asyncio.run(main())
"""


def run_fresh(script: str, model: str) -> subprocess.CompletedProcess[str]:
    # A new process per test is slow (seconds: that is the point), so one HTTP stack
    # only, the default; the stacks differ after the import, not in it.
    env = dict(os.environ, GLUELLM_LOAD_PLUGINS="anyllm")
    return subprocess.run(
        [sys.executable, "-c", script, model],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("model", MODELS)
def test_a_fresh_process_with_a_short_timeout_succeeds_first_time(
    server: FakeProviderServer, model: str
) -> None:
    server.enqueue(FakeReply.text("first try"))

    done = run_fresh(FIRST_CALL, model)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "answer: first try" in done.stdout
    assert len(server.chat_requests) == 1  # no attempt timed out before sending


@pytest.mark.parametrize("model", MODELS)
def test_a_fresh_processs_first_token_arrives_before_the_stream_is_half_done(
    server: FakeProviderServer, model: str
) -> None:
    words = 40
    server.stream_chunk_delay = 0.05  # the server needs at least 39 x 50 ms to send it all
    server.enqueue(FakeReply.text(" ".join(f"w{i}" for i in range(words))))

    done = run_fresh(FIRST_STREAM, model)

    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert int(lines["words"]) == words
    # time.monotonic() is one clock for every process on the machine.
    since_request = float(lines["first"]) - server.chat_requests[0].received_at
    half_the_stream = (words - 1) * server.stream_chunk_delay / 2
    assert since_request < half_the_stream
    assert len(server.chat_requests) == 1
