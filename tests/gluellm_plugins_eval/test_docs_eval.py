"""Every Python example in docs/eval.md runs.

The spec's examples are pasted in the page unchanged; each must be one of those that
test_spec_examples.py runs against the fake server. The page's own examples run here,
offline (the ``test:`` model), in a fresh folder, and print what their comments say.
"""

from __future__ import annotations

import ast
import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gluellm.cli import build_app
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_eval import plugin as eval_plugin

from . import test_spec_examples as spec
from .test_cli import RECORDS, write

DOC = Path(__file__).parents[2] / "docs" / "eval.md"
BLOCK = re.compile(
    r"(?:<!-- not-run: (?P<reason>[^>]*?) -->\s*\n)?```python\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)
SPEC_EXAMPLES = {
    textwrap.dedent(value).strip()
    for name, value in vars(spec).items()
    if name.isupper() and isinstance(value, str) and name not in ("PRELUDE", "API_KEY")
}


def blocks() -> list[tuple[str | None, str]]:
    return [(m["reason"], m["body"]) for m in BLOCK.finditer(DOC.read_text())]


def own_examples() -> list[str]:
    return [body for reason, body in blocks() if not reason and body.strip() not in SPEC_EXAMPLES]


def test_the_page_has_the_spec_examples_and_its_own():
    pasted = {body.strip() for _, body in blocks()} & SPEC_EXAMPLES
    # Every spec example of the section is on the page (the Data Model one included).
    assert pasted == SPEC_EXAMPLES
    assert len(own_examples()) == 3
    for reason, _body in blocks():
        assert reason is None or reason.strip()


def run(code: str) -> None:
    """Run a block; top-level ``await`` runs inside a coroutine."""
    try:
        compiled = compile(code, str(DOC), "exec")
    except SyntaxError:
        wrapped = f"async def __block__():\n{textwrap.indent(code, '    ')}"
        namespace: dict[str, Any] = {}
        exec(compile(ast.parse(wrapped), str(DOC), "exec"), namespace)
        asyncio.run(namespace["__block__"]())
        return
    exec(compiled, {"__name__": "__doc__"})


@pytest.mark.parametrize("code", own_examples(), ids=lambda c: c.strip().splitlines()[0][:40])
def test_own_example_runs_and_prints_what_it_says(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from gluellm_plugins_mock import plugin as mock_plugin

    monkeypatch.chdir(tmp_path)
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(mock_plugin, name="mock")
    manager.register(eval_plugin, name="eval")
    settings = Settings(_env_file=None, default_model="test:demo")  # type: ignore[call-arg]
    with use_runtime(Runtime(manager, settings=settings)):
        run(code)
    out = capsys.readouterr().out.splitlines()
    expected = re.findall(r"^print\(.*\)\s*#\s*(.+)$", code, re.MULTILINE)
    assert expected
    assert out[-len(expected) :] == expected


async def test_the_summary_shown_is_what_the_command_prints(tmp_path: Path):
    from gluellm.eval import JSONLFileStore

    path = await write(JSONLFileStore(tmp_path / "r.jsonl"))
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(eval_plugin, name="eval")
    result = CliRunner().invoke(build_app(manager), ["eval", "summary", str(path)])
    shown = DOC.read_text().split("For example:\n\n```\n", 1)[1].split("```", 1)[0]
    assert result.output.strip() == shown.strip()
    assert len(RECORDS) == 7
