"""Tracing and metrics (the spec's ``gluellm.telemetry``), served by a plugin.

The code lives in ``gluellm-plugins-telemetry`` (OpenTelemetry is its dependency, not
core's). Names are looked up on first use, so ``import gluellm.telemetry`` stays cheap;
without the plugin, using one raises an ImportError that names the package to install.

Names: ``configure_tracing``, ``trace_llm_call``, ``set_span_attributes``,
``mlflow_run_context``, ``flush_tracing``, ``shutdown_tracing``, ``is_tracing_enabled``.
"""

from __future__ import annotations

import importlib
from typing import Any

INSTALL_HINT = "pip install gluellm-plugins-telemetry"

_NAMES = (
    "configure_tracing",
    "flush_tracing",
    "is_tracing_enabled",
    "mlflow_run_context",
    "set_span_attributes",
    "shutdown_tracing",
    "trace_llm_call",
)
__all__ = [*_NAMES]

_PLUGIN_MODULE = "gluellm_plugins_telemetry.api"


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'gluellm.telemetry' has no attribute {name!r}")
    try:
        module = importlib.import_module(_PLUGIN_MODULE)
    except ModuleNotFoundError as error:
        if error.name is None or not _PLUGIN_MODULE.startswith(error.name):
            raise
        raise ImportError(
            f"gluellm.telemetry.{name} needs the telemetry plugin, which is not installed. "
            f"Install it with: {INSTALL_HINT}",
            name=_PLUGIN_MODULE,
        ) from error
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
