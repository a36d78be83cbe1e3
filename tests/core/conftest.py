"""Fixtures for core tests: a fresh plugin manager and runtime per test, no entry points."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gluellm import hookimpl
from gluellm.plugins import PluginManager, create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import ScriptedTransport


@pytest.fixture
def plugin_manager() -> PluginManager:
    return create_plugin_manager(load_entrypoints=False)


@pytest.fixture
def runtime(plugin_manager: PluginManager) -> Iterator[Runtime]:
    rt = Runtime(plugin_manager)
    with use_runtime(rt):
        yield rt


class ScriptedProvider:
    """A test plugin serving the ``scripted`` provider with a ScriptedTransport."""

    def __init__(self) -> None:
        self.transport = ScriptedTransport()

    @hookimpl
    def register_transports(self, register: Callable[..., None]) -> None:
        register("scripted", lambda: self.transport)


@pytest.fixture
def scripted(plugin_manager: PluginManager, runtime: Runtime) -> ScriptedTransport:
    """A ScriptedTransport registered through the hook as provider ``scripted``."""
    provider = ScriptedProvider()
    plugin_manager.register(provider, name="scripted-provider")
    return provider.transport


MODEL = "scripted:test-model"


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Install a throwaway distribution with ``gluellm`` entry points onto sys.path.

    Call it with ``{entry_point_name: module_source}``; returns the site directory.
    """
    counter = iter(range(1000))

    def make(plugins: dict[str, str], dist_name: str = "gluellm-plugins-fake") -> Path:
        site = tmp_path / f"site{next(counter)}"
        dist_info = site / f"{dist_name.replace('-', '_')}-0.1.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n"
        )
        lines = ["[gluellm]"]
        for name, source in plugins.items():
            module = f"{name}_{tmp_path.name}".replace("-", "_")
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            lines.append(f"{name} = {module}")
            monkeypatch.delitem(sys.modules, module, raising=False)
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(site))
        return site

    return make
