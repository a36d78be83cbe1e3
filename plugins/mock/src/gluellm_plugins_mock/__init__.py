"""GlueLLM's offline test model (``test:`` provider), fake provider server and fixtures.

Names load on first access, so the pytest plugin and ``gluellm --help`` stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluellm_plugins_mock.schema_values import value_for_schema
    from gluellm_plugins_mock.test_model import TestModelTransport

__all__ = ["TestModelTransport", "value_for_schema"]

_EXPORTS = {
    "TestModelTransport": "gluellm_plugins_mock.test_model",
    "value_for_schema": "gluellm_plugins_mock.schema_values",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gluellm_plugins_mock' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
