"""Hook implementations: registers the ``test`` provider. Nothing heavy is imported here."""

from __future__ import annotations

from gluellm import hookimpl
from gluellm.hookspecs import RegisterTransport


@hookimpl
def register_transports(register: RegisterTransport) -> None:
    """Serve ``test:<anything>`` with the deterministic offline test model."""
    from gluellm_plugins_mock.test_model import TestModelTransport

    register("test", TestModelTransport)
