"""``gluellm.eval`` re-exports the eval plugin lazily and names it when it is missing."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.fixture
def eval_module(monkeypatch: pytest.MonkeyPatch):
    """A fresh ``gluellm.eval`` that sees the plugin as not installed."""
    monkeypatch.setitem(sys.modules, "gluellm_plugins_eval", None)  # import fails
    monkeypatch.delitem(sys.modules, "gluellm.eval", raising=False)
    return importlib.import_module("gluellm.eval")


@pytest.mark.parametrize(
    "name",
    ["JSONLFileStore", "SQLiteStore", "CallbackStore", "MultiStore", "enable_file_recording"],
)
def test_missing_plugin_names_the_package_to_install(eval_module, name: str):
    with pytest.raises(ImportError, match="pip install gluellm-plugins-eval"):
        getattr(eval_module, name)


def test_core_names_work_without_the_plugin(eval_module):
    from gluellm.models.eval import EvalRecord
    from gluellm.protocols import EvalStore

    assert eval_module.EvalRecord is EvalRecord
    assert eval_module.EvalStore is EvalStore


def test_unknown_names_are_attribute_errors(eval_module):
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        eval_module.nope  # noqa: B018


def test_importing_gluellm_eval_loads_no_plugin_code():
    code = (
        "import sys, gluellm.eval\n"
        "print(any(m.startswith('gluellm_plugins_eval') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
