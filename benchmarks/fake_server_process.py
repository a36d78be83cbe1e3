"""Run the fake provider server in its own process, so client and server don't share a GIL."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def fake_server(latency: float = 0.0) -> Iterator[str]:
    """Start ``python -m gluellm_plugins_mock.fake_server``; yield its URL; stop it after."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gluellm_plugins_mock.fake_server",
            "--port",
            "0",
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the fake server did not start (printed {url!r})")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
