"""The plugin guide's example is a real project: what the guide shows installs and passes."""

from __future__ import annotations

import importlib.metadata
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "plugins" / "writing.md"
EXAMPLE = ROOT / "docs" / "examples" / "gluellm-plugins-echo"
BLOCK = re.compile(r"^`(?P<path>[^`]+)`:\n\n```\w+\n(?P<body>.*?)```$", re.MULTILINE | re.DOTALL)


def _shown() -> dict[str, str]:
    return {m["path"]: m["body"] for m in BLOCK.finditer(GUIDE.read_text())}


def test_the_guide_shows_the_example_files_as_they_are():
    shown = _shown()
    assert {"pyproject.toml", "src/gluellm_plugins_echo/plugin.py", "tests/test_echo.py"} <= set(
        shown
    )
    for path, body in shown.items():
        assert (EXAMPLE / path).read_text() == body, f"{path} in the guide differs from the file"


def test_the_example_plugin_is_installed_with_its_entry_point():
    entry_points = importlib.metadata.entry_points(group="gluellm")
    [echo] = [ep for ep in entry_points if ep.name == "echo"]
    assert echo.value == "gluellm_plugins_echo.plugin"
    assert echo.dist is not None
    assert echo.dist.metadata["Name"] == "gluellm-plugins-echo"


@pytest.mark.parametrize("name", ["test_echo"])
async def test_the_example_plugins_own_test_passes(name):
    namespace = runpy.run_path(str(EXAMPLE / "tests" / "test_echo.py"))
    await namespace[name]()
