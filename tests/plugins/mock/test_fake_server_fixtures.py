"""The pytest fixtures, the threaded mode and the standalone command of the fake server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.metadata import entry_points

import anthropic
import httpx
import openai
import pytest

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

USER = [{"role": "user", "content": "hi"}]


async def test_fake_provider_env_points_the_sdks_at_the_server(fake_provider_env):
    assert os.environ["OPENAI_BASE_URL"] == fake_provider_env.openai_base_url
    assert os.environ["ANTHROPIC_BASE_URL"] == fake_provider_env.anthropic_base_url
    assert os.environ["OPENAI_API_KEY"] == "sk-test"
    assert os.environ["ANTHROPIC_API_KEY"] == "sk-ant-test"
    assert os.environ["XAI_API_KEY"]

    async with openai.AsyncOpenAI(max_retries=0) as oai, anthropic.AsyncAnthropic() as claude:
        completion = await oai.chat.completions.create(model="m", messages=USER)
        message = await claude.messages.create(model="m", max_tokens=5, messages=USER)

    assert completion.choices[0].message.content == "Echo: hi"
    assert message.content[0].text == "Echo: hi"
    assert [r.api for r in fake_provider_env.chat_requests] == ["openai", "anthropic"]


def test_fake_provider_state_set_by_one_test(fake_provider):
    fake_provider.enqueue("left over")
    fake_provider.latency = 0.2
    httpx.get(f"{fake_provider.openai_base_url}/models")


def test_fake_provider_is_reset_for_the_next_test(fake_provider):
    assert fake_provider.pending == 0
    assert fake_provider.requests == []
    assert fake_provider.latency == 0.0


def test_the_pytest_plugin_is_registered_through_an_entry_point():
    plugins = {ep.value for ep in entry_points(group="pytest11")}

    assert "gluellm_plugins_mock.pytest_plugin" in plugins


def test_importing_the_pytest_plugin_does_not_import_aiohttp():
    code = (
        "import sys, gluellm_plugins_mock.pytest_plugin; "
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'"
    )

    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_running_in_a_thread_can_be_repeated():
    server = FakeProviderServer()
    for _ in range(2):
        with server.running_in_thread():
            server.enqueue(FakeReply.text("threaded"))
            response = httpx.post(
                f"{server.openai_base_url}/chat/completions", json={"model": "m", "messages": USER}
            )
            assert response.json()["choices"][0]["message"]["content"] == "threaded"

    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


async def test_starting_twice_is_an_error():
    async with FakeProviderServer() as server:
        with pytest.raises(RuntimeError, match="already running"):
            await server.start()


def test_the_standalone_command_prints_its_url_and_serves():
    command = [sys.executable, "-m", "gluellm_plugins_mock.fake_server", "--latency", "0.1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")

            started = time.perf_counter()
            response = httpx.post(
                f"{url}/v1/chat/completions", json={"model": "m", "messages": USER}, timeout=10
            )

            assert time.perf_counter() - started >= 0.1
            assert response.json()["choices"][0]["message"]["content"] == "Echo: hi"
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_load_test_measures_the_standalone_server(capsys):
    from gluellm_plugins_mock.fake_server import loadtest

    loadtest.main(["--concurrency", "4", "--seconds", "0.3"])

    line = capsys.readouterr().out
    assert "concurrency=4" in line
    rate = float(line.split(": ", 1)[1].split(" requests/s")[0].replace(",", ""))
    assert rate > 0
