"""The examples of docs/performance.md and the conformance section of docs/testing.md run."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_openai_http import plugin as openai_http_plugin

DOCS = Path(__file__).parents[3] / "docs"
BLOCK = re.compile(
    r"(?P<marker><!-- not-run: [^>]{10,}? -->\s*\n)?```python\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)


def python_blocks(page: str, after: str = "") -> list[str]:
    text = (DOCS / page).read_text()
    if after:
        text = text.split(after, 1)[1]
    return [m["body"] for m in BLOCK.finditer(text) if not m["marker"]]


async def test_performance_page_examples_run(fake_provider_env, monkeypatch):
    warmup_block, complete_block = python_blocks("performance.md")
    runtime = Runtime(
        _manager_with_lean_transport(),
        settings=Settings(_env_file=None),  # type: ignore[call-arg]
    )
    namespace: dict = {}
    with use_runtime(runtime):
        exec(warmup_block, namespace)
        await namespace["on_startup"]()
        wrapped = "async def example():\n" + textwrap.indent(complete_block, "    ")
        exec(wrapped, namespace)
        await namespace["example"]()
    await runtime.aclose()
    [chat] = fake_provider_env.chat_requests  # warmup sent nothing, the example one request
    assert chat.model == "gpt-4o-mini"
    assert chat.headers.get("User-Agent") == "gluellm-openai-http/0.1"


def _manager_with_lean_transport():
    from gluellm_plugins_anyllm import plugin as anyllm_plugin

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(openai_http_plugin, name="openai-http")
    return manager


def test_conformance_example_runs_as_a_test_suite_of_its_own(tmp_path):
    [example] = python_blocks("testing.md", after="## Checking a transport")
    (tmp_path / "test_my_transport.py").write_text(example)
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=strict",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:]
    assert re.search(r"\b(\d{2,}) passed\b", finished.stdout), finished.stdout[-500:]
