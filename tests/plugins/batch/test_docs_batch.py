"""Every Python example in docs/batch.md runs as written, against the fake server.

The examples come from the spec; they run in order in one namespace (as in a notebook),
seeded with the names the spec leaves to the reader (``my_tool``, ``load_documents``,
``large_dataset``). Blocks with top-level ``await`` run in an event loop of their own;
blocks that call ``asyncio.run`` run as they are. Rate limiting is off for speed (the
key-pool examples send 200 requests each); pools are tested in test_key_pools.py.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime

DOC = Path(__file__).parents[3] / "docs" / "batch.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def my_tool(query: str) -> str:
    """Look something up.

    Args:
        query: What to look up.
    """
    return f"result for {query}"


def load_documents():
    return [SimpleNamespace(id=f"doc-{i}", text=f"text {i}") for i in range(3)]


def test_the_doc_has_the_spec_examples():
    text = DOC.read_text()
    for needle in (
        "batch_complete_simple(",
        "BatchErrorStrategy.FAIL_FAST",
        "APIKeyConfig(",
        "stream_batch(",
        "run_jsonl(",
        "provider_batch_complete(",
    ):
        assert needle in text
    assert len(_blocks()) >= 14


def test_every_example_runs(fake_provider_env, tmp_path, capsys):
    runtime = Runtime(
        create_plugin_manager(),
        settings=Settings(_env_file=None, rate_limit_enabled=False),  # type: ignore[call-arg]
    )
    namespace = {
        "__name__": "__doc__",
        "my_tool": my_tool,
        "load_documents": load_documents,
        "large_dataset": [f"item {i}" for i in range(5)],
        "input_path": str(tmp_path / "in.jsonl"),
        "output_path": str(tmp_path / "out.jsonl"),
    }
    with use_runtime(runtime):
        for number, source in enumerate(_blocks(), start=1):
            code = compile(
                source,
                f"docs/batch.md block {number}",
                "exec",
                flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            )
            try:
                if code.co_flags & inspect.CO_COROUTINE:
                    asyncio.run(eval(code, namespace))
                else:
                    exec(code, namespace)
            except Exception as error:  # name the block that failed
                pytest.fail(f"docs/batch.md block {number} failed: {error!r}\n{source}")
    out = capsys.readouterr().out
    assert "A: " in out
    assert "Error" not in out
    assert "Completed: 3/3" in out
    assert out.count("Completed: 200/200") == 2
    assert "Success rate: 100.0%" in out
    assert "[2, 1]" in out  # embeddings per request
    assert "\n300\n" in out  # the streaming example answered every question
    assert "2 0" in out  # run_jsonl: two answered, then nothing left on the rerun
    assert "3 ['doc-0', 'doc-1', 'doc-2']" in out  # provider batch round trip
    assert len(fake_provider_env.chat_requests) > 400
