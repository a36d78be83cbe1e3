"""The spec's batch names import from gluellm, gluellm.batch and gluellm.models.batch.

Core alone must import cleanly: the names load from gluellm-plugins-batch on first
access, and without the plugin the error says what to install.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import gluellm
import gluellm.batch
import gluellm.models.batch

SPEC_NAMES = {
    "gluellm": [
        "batch_complete",
        "batch_complete_simple",
        "BatchRequest",
        "BatchConfig",
        "BatchErrorStrategy",
        "BatchResponse",
        "BatchResult",
    ],
    "gluellm.models.batch": [
        "BatchRequest",
        "BatchConfig",
        "BatchErrorStrategy",
        "BatchResponse",
        "BatchResult",
    ],
}


def _plugin_installed():
    try:
        importlib.import_module("gluellm_plugins_batch")
    except ImportError:
        return False
    return True


def _fresh(module_name):
    """The module, with the lazy names every re-exporting module cached dropped."""
    names = {n for ns in SPEC_NAMES.values() for n in ns} | set(gluellm.batch.__all__)
    for cached in (gluellm, gluellm.batch, gluellm.models.batch):
        for name in names:
            cached.__dict__.pop(name, None)
    return importlib.import_module(module_name)


@pytest.mark.parametrize(
    ("module_name", "name"), [(m, n) for m, ns in SPEC_NAMES.items() for n in ns]
)
def test_missing_plugin_names_the_distribution(monkeypatch, module_name, name):
    module = _fresh(module_name)
    monkeypatch.setitem(sys.modules, "gluellm_plugins_batch", None)  # import fails
    try:
        with pytest.raises(ImportError, match="pip install gluellm-plugins-batch"):
            getattr(module, name)
    finally:
        _fresh(module_name)


@pytest.mark.skipif(not _plugin_installed(), reason="gluellm-plugins-batch not installed")
@pytest.mark.parametrize(
    ("module_name", "name"), [(m, n) for m, ns in SPEC_NAMES.items() for n in ns]
)
def test_names_resolve_to_the_plugins_objects(module_name, name):
    plugin = importlib.import_module("gluellm_plugins_batch")
    assert getattr(_fresh(module_name), name) is getattr(plugin, name)


def test_api_key_config_stays_in_core():
    assert gluellm.models.batch.APIKeyConfig.__module__ == "gluellm.models.batch"


def test_exports_are_in_step():
    for name in SPEC_NAMES["gluellm"]:
        assert name in gluellm.__all__
    assert set(gluellm.batch.__all__) >= set(SPEC_NAMES["gluellm.models.batch"])
    with pytest.raises(AttributeError):
        gluellm.models.batch.NotABatchName  # noqa: B018


def test_importing_gluellm_does_not_import_the_plugin():
    code = (
        "import sys, gluellm, gluellm.batch, gluellm.models.batch; "
        "print('gluellm_plugins_batch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
