"""The transport conformance suite fails a broken transport, naming the check and the reason.

Each broken transport wraps the working openai-http transport and breaks one promise;
the suite runs against it in a pytest subprocess, and the report must name the failing
checks (and only those: the rest of the suite still passes) with a reason a transport
author can act on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BROKEN = textwrap.dedent(
    """
    import attrs
    import pytest

    from gluellm.call import StreamDelta
    from gluellm.errors import LLMError
    from gluellm_plugins_mock.conformance import TransportConformance
    from gluellm_plugins_openai_http.transport import OpenAIHTTPTransport


    class Stream:
        def __init__(self, inner, change):
            self.inner, self.change = inner, change

        def __aiter__(self):
            return self

        async def __anext__(self):
            return self.change(await anext(self.inner))

        async def aclose(self):
            await self.inner.aclose()


    class Wrapped:
        def __init__(self):
            self.inner = OpenAIHTTPTransport("openai")
            self.embed_batch_limit = self.inner.embed_batch_limit

        async def complete(self, call):
            response = await self.inner.complete(call)
            if response.stream is None:
                return self.answer(response)
            return attrs.evolve(response, stream=self.stream(response.stream))

        def answer(self, response):
            return response

        def stream(self, deltas):
            return Stream(deltas, self.delta)

        def delta(self, delta):
            return delta

        async def embed(self, call):
            return await self.inner.embed(call)

        async def aclose(self):
            await self.inner.aclose()


    class DropsToolCalls(Wrapped):
        def answer(self, response):
            return attrs.evolve(response, tool_calls=())

        def delta(self, delta):
            return attrs.evolve(delta, tool_calls=())


    class InventsFinishReasons(Wrapped):
        def answer(self, response):
            return attrs.evolve(response, finish_reason="done")

        def stream(self, deltas):
            return Finished(deltas, self.delta)


    class Finished(Stream):
        async def __anext__(self):
            try:
                return await anext(self.inner)
            except LLMError:  # a cut stream passed off as a finished one
                self.inner = empty()
                return StreamDelta(finish_reason="stop")


    async def empty():
        return
        yield


    class Test{name}(TransportConformance):
        @pytest.fixture
        def transport_factory(self):
            return {name}
    """
)

CASES = {
    "DropsToolCalls": {
        "fails": {
            "test_tool_calls_come_back_whole": "not enough values to unpack (expected 1, got 0)",
            "test_tool_loop_end_to_end": "assert '' == 'Sunny in Tokyo.'",
            "test_stream_tool_call_fragments_add_up": "assert 0 > 1",
        },
        "passes": ["test_plain_answer_with_usage", "test_stream_text_and_usage"],
    },
    "InventsFinishReasons": {
        "fails": {
            "test_plain_answer_with_usage": "assert 'done' == 'stop'",
            "test_tool_calls_come_back_whole": "assert 'done' == 'tool_calls'",
            "test_a_stream_that_stops_before_its_answer_raises[cut]": (
                "DID NOT RAISE APIConnectionError"
            ),
            "test_a_stream_that_stops_before_its_answer_raises[ended-early]": (
                "DID NOT RAISE APIConnectionError"
            ),
        },
        "passes": ["test_stream_text_and_usage", "test_embeddings_in_order_with_usage"],
    },
}


def _run_suite(name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    test_file = folder / f"test_{name.lower()}.py"
    test_file.write_text(BROKEN.replace("{name}", name))
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", str(test_file), "-p", "no:cacheprovider",
            "-p", "no:randomly", "-rA", "--tb=short", "-vv", "--rootdir", str(folder),
            "-o", "asyncio_default_fixture_loop_scope=function",
        ],
        cwd=folder, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_broken_transport_fails_the_checks_it_breaks_with_the_reason(name, tmp_path):
    done = _run_suite(name, tmp_path)
    report = done.stdout
    assert done.returncode == 1, report[-3000:] + done.stderr[-2000:]
    failed = set(re.findall(rf"^FAILED \S+::Test{name}::(\S+)", report, re.MULTILINE))
    passed = set(re.findall(rf"^PASSED \S+::Test{name}::(\S+)", report, re.MULTILINE))
    expected = CASES[name]
    assert set(expected["fails"]) <= failed, report[-3000:]
    assert set(expected["passes"]) <= passed, report[-3000:]
    assert len(passed) > len(failed)  # the checks are specific, not all-or-nothing
    for check, reason in expected["fails"].items():
        # The short summary line of each failing check carries its reason.
        [line] = [
            line
            for line in report.splitlines()
            if line.startswith("FAILED ") and line.split("::")[-1].split(" - ")[0] == check
        ]
        assert reason in line, line


def test_the_working_transport_passes_the_same_suite(tmp_path):
    """The wrapper itself breaks nothing: only the broken parts fail above."""
    done = _run_suite("Wrapped", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " failed" not in done.stdout.splitlines()[-1]
