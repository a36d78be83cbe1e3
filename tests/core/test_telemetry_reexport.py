"""gluellm.telemetry: a thin, lazy re-export of the telemetry plugin, with an install hint."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

import gluellm.telemetry

NAMES = (
    "configure_tracing",
    "flush_tracing",
    "is_tracing_enabled",
    "mlflow_run_context",
    "set_span_attributes",
    "shutdown_tracing",
    "trace_llm_call",
)


def test_without_the_plugin_using_a_name_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gluellm_plugins_telemetry", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "gluellm_plugins_telemetry.api", None)
    for name in NAMES:
        monkeypatch.delitem(gluellm.telemetry.__dict__, name, raising=False)
    for name in NAMES:
        with pytest.raises(ImportError, match="pip install gluellm-plugins-telemetry"):
            getattr(gluellm.telemetry, name)
    with pytest.raises(ImportError, match="pip install gluellm-plugins-telemetry"):
        exec("from gluellm.telemetry import configure_tracing", {})


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gluellm.telemetry.nope  # noqa: B018
    assert sorted(dir(gluellm.telemetry)) == sorted(NAMES)


def test_importing_it_loads_no_opentelemetry():
    code = (
        "import sys, gluellm.telemetry; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('opentelemetry', 'gluellm_plugins'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(
    importlib.util.find_spec("gluellm_plugins_telemetry") is None,
    reason="the plugin is not installed (core-only run): the hint test above covers this case",
)
def test_with_the_plugin_names_resolve_to_it():
    from gluellm_plugins_telemetry import api

    for name in NAMES:
        assert getattr(gluellm.telemetry, name) is getattr(api, name)
