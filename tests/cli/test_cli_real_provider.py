"""The test commands against a real provider path: any-llm -> openai SDK -> HTTP, on loopback.

With a key set, the commands use the requested (or configured) model instead of the
test model; a provider error ends the command with exit 1 and one line on stderr.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

KEY = "sk-cli-secret-1234567890"


async def _gluellm(server: FakeProviderServer, cwd: Path, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": KEY,
        "OPENAI_BASE_URL": server.openai_base_url,
        "GLUELLM_LOG_DIR": str(cwd / "logs"),
        "GLUELLM_RETRY_MAX_ATTEMPTS": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gluellm.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_rejected_key_is_one_line_and_exit_1(tmp_path: Path) -> None:
    async with FakeProviderServer() as server:
        server.enqueue(Fault.status(401, message="Incorrect API key provided"))
        code, out, err = await _gluellm(server, tmp_path, "test-completion", "-m", "openai:gpt-4o")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: AuthenticationError: ")
    assert KEY not in out + err
    assert len(server.chat_requests) == 1


async def test_with_a_key_the_configured_model_answers(tmp_path: Path) -> None:
    async with FakeProviderServer() as server:
        server.enqueue(FakeReply.text("Paris is the capital of France.", usage=(12, 7)))
        code, out, err = await _gluellm(server, tmp_path, "test-completion", "-m", "openai:gpt-4o")
    assert code == 0, err
    assert "Completion on openai:gpt-4o\n" in out
    assert "answer: Paris is the capital of France." in out
    assert "tokens: 19" in out
    assert server.chat_requests[0].body["model"] == "gpt-4o"


async def test_different_models_fails_when_a_keyed_model_fails(tmp_path: Path) -> None:
    async with FakeProviderServer() as server:
        server.enqueue(FakeReply.text("Hello there!"), Fault.status(500))
        code, out, err = await _gluellm(
            server,
            tmp_path,
            "test-different-models",
            "-m",
            "openai:gpt-4o",
            "-m",
            "openai:gpt-4o-mini",
        )
    assert code == 1
    assert "openai:gpt-4o: Hello there!" in out
    assert "openai:gpt-4o-mini: FAILED APIConnectionError" in out
    [line] = err.strip().splitlines()
    assert line.startswith("error: 1 model(s) failed; first: openai:gpt-4o-mini: APIConnection")
