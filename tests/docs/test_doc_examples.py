"""Every Python block of the README and the core docs runs, offline, on the test model.

Blocks of a page run in order in one namespace, as a reader would paste them, with
``GLUELLM_DEFAULT_MODEL=test:demo`` and no API key. A block using ``await`` at top level
runs inside a coroutine. A block preceded by ``<!-- not-run: reason -->`` is skipped,
and must say why. Blocks of the hook reference are plugins: every ``@hookimpl`` they
define must register on a fresh plugin manager (so hook names and arguments are real).
Pages with their own example tests (eval, telemetry, workflows, batch, embeddings,
costs, logging, testing, the plugin guide) are not listed here.
"""

from __future__ import annotations

import ast
import asyncio
import re
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from gluellm.plugins import create_plugin_manager

ROOT = Path(__file__).parents[2]
PAGES = ["README.md", "docs/streaming.md", "docs/plugins/hooks.md", "docs/architecture.md"]
BLOCK = re.compile(
    r"(?P<marker><!-- not-run: (?P<reason>[^>]*?) -->\s*\n)?(?P<indent>[ \t]*)```python\n"
    r"(?P<body>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
PRELUDE = "import asyncio\nimport time\nfrom gluellm import hookimpl\n"


def blocks(page: str) -> list[tuple[str | None, str]]:
    """(not-run reason or None, code) for each Python block of ``page``."""
    text = (ROOT / page).read_text()
    found = []
    for match in BLOCK.finditer(text):
        body = textwrap.dedent(
            "\n".join(
                line[len(match["indent"]) :] if line.startswith(match["indent"]) else line
                for line in match["body"].splitlines()
            )
        )
        found.append((match["reason"], body))
    return found


def _is_async(code: str) -> bool:
    try:
        compile(code, "<doc>", "exec")
    except SyntaxError:
        return True  # top-level await / async for / async with
    return False


def run_block(code: str, namespace: dict[str, Any]) -> None:
    """Run one block; a block with top-level ``await`` runs in a coroutine of its own loop."""
    if not _is_async(code):
        exec(compile(code, "<doc>", "exec"), namespace)
        return
    wrapped = f"async def __doc_block__():\n{textwrap.indent(code, '    ')}\n    return locals()"
    exec(compile(ast.parse(wrapped), "<doc>", "exec"), namespace)
    namespace.update(asyncio.run(namespace.pop("__doc_block__")()))


def hookimpls(namespace: dict[str, Any]) -> types.SimpleNamespace:
    functions = {
        name: value
        for name, value in namespace.items()
        if callable(value) and hasattr(value, "gluellm_impl")
    }
    return types.SimpleNamespace(**functions)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLUELLM_DEFAULT_MODEL", "test:demo")
    monkeypatch.setenv("GLUELLM_RATE_LIMIT_ENABLED", "false")
    from gluellm import config

    monkeypatch.setattr(config, "settings", config.Settings())


def test_every_not_run_marker_says_why():
    for page in PAGES:
        for reason, _code in blocks(page):
            assert reason is None or len(reason.strip()) > 10, f"{page}: say why it is not run"


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("page", PAGES)
def test_the_pages_python_blocks_run(page):
    namespace: dict[str, Any] = {}
    exec(PRELUDE, namespace)
    ran = 0
    for reason, code in blocks(page):
        if reason is not None:
            continue
        run_block(code, namespace)
        ran += 1
        if page.endswith("hooks.md"):
            plugin = hookimpls(namespace)
            manager = create_plugin_manager(load_entrypoints=False)
            manager.register(plugin, name=f"doc-example-{ran}")
            for name in vars(plugin):
                namespace.pop(name)
    assert ran or not blocks(page), f"{page}: every block is marked not-run"
    from gluellm.runtime import aclose_default_runtime

    asyncio.run(aclose_default_runtime())
