"""`import gluellm` and `gluellm --help` stay free of provider SDKs (plugins included)."""

from __future__ import annotations

import json
import subprocess
import sys

PROVIDER_MODULES = ("openai", "anthropic", "any_llm", "httpx", "aiohttp", "redis", "stamina")

PROBE = """
import json, sys
{setup}
heavy = sorted(m for m in {modules!r} if m in sys.modules)
print(json.dumps(heavy))
"""


def _heavy_modules_after(setup: str) -> list[str]:
    code = PROBE.format(setup=setup, modules=PROVIDER_MODULES)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_gluellm_imports_no_provider_sdk():
    assert _heavy_modules_after("import gluellm; gluellm.hookimpl") == []


def test_import_gluellm_stays_light():
    proc = subprocess.run(
        [sys.executable, "-c", "import gluellm, sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = subprocess.run(
        [sys.executable, "-c", "import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    # pluggy and the lazy exports only: pydantic and friends load on first use.
    assert int(proc.stdout) - int(baseline.stdout) < 60
    assert _heavy_modules_after("import gluellm") == []
    assert "pydantic" not in _heavy_modules_after("import gluellm")  # sanity: probe works


def test_gluellm_help_with_all_installed_plugins_imports_no_provider_sdk():
    setup = (
        "from gluellm.cli import build_app\n"
        "from typer.testing import CliRunner\n"
        "result = CliRunner().invoke(build_app(), ['--help'])\n"
        "assert result.exit_code == 0, result.output"
    )
    assert _heavy_modules_after(setup) == []


def test_public_names_resolve_and_stay_in_step():
    import ast
    from pathlib import Path

    import gluellm

    lazy = set(gluellm._EXPORTS)
    assert set(gluellm.__all__) == {"__version__", "hookimpl"} | lazy
    tree = ast.parse(Path(gluellm.__file__).read_text())
    typed = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    } - {"annotations", "TYPE_CHECKING", "Any", "hookimpl"}
    assert typed == lazy  # what type checkers see is what users get
    for name in gluellm.__all__:
        assert getattr(gluellm, name) is not None


def test_gluellm_help_does_not_load_rich():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gluellm.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Commands:" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert not {name for name in imported if name.split(".")[0] == "rich"}
