"""Shared test setup: no test may reach beyond loopback, and no real API key leaks in."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):  # unix sockets
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: only loopback is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]

_KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "XAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
)


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's keys or endpoints; they set what they need."""
    for name in _KEY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"GLUELLM_{name}", raising=False)


@pytest.fixture(autouse=True)
def _no_inherited_default_runtime() -> Iterator[None]:
    """Every test builds its own default runtime, from its own environment.

    The default runtime is configured once per process from the environment of its first
    use. Without this, a test that set ``GLUELLM_LOAD_PLUGINS`` could leave a runtime
    with most plugins switched off for whichever test ran next on that worker (it
    happened: a workflows CLI test broke the testing guide's fake-server example).
    """
    _drop_default_runtime()
    yield
    _drop_default_runtime()


def _drop_default_runtime() -> None:
    # Only when gluellm is already imported: importing it here would warm the import
    # for every test and hide cold-import bugs.
    runtime_module = sys.modules.get("gluellm.runtime")
    if runtime_module is not None:
        runtime_module._default_runtime = None  # type: ignore[attr-defined]
