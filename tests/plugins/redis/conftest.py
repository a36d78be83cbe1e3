"""A real redis-server on a free loopback port, and runtimes that use it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loguru import logger

import gluellm_plugins_aiolimiter
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime
from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
from gluellm_plugins_redis import backend as redis_backend_module
from gluellm_plugins_redis import plugin as redis_plugin

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A throwaway redis-server: no persistence, loopback only; can be stopped and restarted."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if os.environ.get("GLUELLM_REQUIRE_REDIS"):  # CI installs it: a skip would hide tests
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(REDIS_SERVER, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unused_redis_url() -> str:
    """A loopback Redis URL where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    gluellm_plugins_aiolimiter.reset_state()
    redis_backend_module.reset_backends()
    yield
    gluellm_plugins_aiolimiter.reset_state()
    redis_backend_module.reset_backends()


@pytest.fixture
def make_runtime() -> Callable[..., Runtime]:
    """``make_runtime(**settings)``: a runtime with the aiolimiter and redis plugins."""

    def make(**settings: Any) -> Runtime:
        manager = create_plugin_manager(load_entrypoints=False)
        manager.register(aiolimiter_plugin, name="aiolimiter")
        manager.register(redis_plugin, name="redis")
        return Runtime(manager, settings=Settings(**settings))

    return make


@pytest.fixture
def log_messages() -> Iterator[list[str]]:
    """Every loguru message (INFO and up) logged during the test."""
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="INFO")
    yield messages
    logger.remove(sink)
