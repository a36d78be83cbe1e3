"""GlueLLM's offline test model (``test:`` provider) and test helpers."""

from gluellm_plugins_mock.schema_values import value_for_schema
from gluellm_plugins_mock.test_model import TestModelTransport

__all__ = ["TestModelTransport", "value_for_schema"]
