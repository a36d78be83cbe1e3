"""Faults over real HTTP (fake server) are recorded right, and the API key never is.

The whole path runs: GlueLLM -> eval plugin -> retry plugin -> any-llm -> openai SDK ->
HTTP on loopback -> the fake provider server, which injects the faults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import stamina

from gluellm.api import complete, stream_complete
from gluellm.config import Settings
from gluellm.errors import APIConnectionError, AuthenticationError
from gluellm.eval import JSONLFileStore
from gluellm.models.eval import EvalRecord
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

from .conftest import read_jsonl

API_KEY = "sk-eval-http-canary-5d1e0c9b8a7f"
MODEL = "openai:gpt-4o-mini"


@pytest.fixture
async def http_runtime(
    fake_provider_env: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    from gluellm_plugins_anyllm import plugin as anyllm_plugin
    from gluellm_plugins_eval import plugin as eval_plugin
    from gluellm_plugins_stamina import plugin as stamina_plugin

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(stamina_plugin, name="stamina")
    manager.register(eval_plugin, name="eval")
    settings = Settings(_env_file=None, retry_max_attempts=3)  # type: ignore[call-arg]
    runtime = Runtime(manager, settings=settings)
    with stamina.set_testing(True, attempts=1000, cap=True), use_runtime(runtime):
        yield runtime
    await runtime.aclose()


@pytest.fixture
def store(tmp_path: Path) -> JSONLFileStore:
    return JSONLFileStore(tmp_path / "records.jsonl")


async def recorded(store: JSONLFileStore) -> list[EvalRecord]:
    await store.close()
    text = store.file_path.read_text()
    assert API_KEY not in text
    assert "Authorization" not in text
    return [EvalRecord.model_validate(r) for r in read_jsonl(store.file_path)]


@pytest.mark.usefixtures("http_runtime")
async def test_401_is_recorded_as_an_authentication_error(
    fake_provider_env: FakeProviderServer, store: JSONLFileStore
):
    fake_provider_env.enqueue(Fault.status(401))
    with pytest.raises(AuthenticationError):
        await complete("Hello", model=MODEL, eval_store=store)
    (record,) = await recorded(store)
    assert record.success is False
    assert record.status == "error"
    assert record.error_type == "AuthenticationError"
    assert "Incorrect API key" in (record.error_message or "")
    assert record.retry_attempts == 0  # never retried
    assert len(fake_provider_env.chat_requests) == 1
    # The server saw the key; the record did not keep it.
    assert fake_provider_env.chat_requests[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.usefixtures("http_runtime")
async def test_429_then_success_records_the_retry(
    fake_provider_env: FakeProviderServer, store: JSONLFileStore
):
    fake_provider_env.enqueue(
        Fault.status(429, retry_after=0.01), FakeReply.text("Paris.", usage=(9, 2))
    )
    result = await complete("Capital of France?", model=MODEL, eval_store=store)
    assert result.final_response == "Paris."
    (record,) = await recorded(store)
    assert record.success is True
    assert record.error_type is None
    assert record.retry_attempts == 1
    assert record.model_calls == 1
    assert record.tokens_used == {"prompt": 9, "completion": 2, "total": 11}
    assert record.raw_response["choices"][0]["message"]["content"] == "Paris."
    assert len(fake_provider_env.chat_requests) == 2


@pytest.mark.usefixtures("http_runtime")
async def test_a_cut_stream_is_recorded_as_a_connection_error(
    fake_provider_env: FakeProviderServer, store: JSONLFileStore
):
    fake_provider_env.enqueue(
        Fault.cut_stream(after_chunks=2, then=FakeReply.text("one two three four five"))
    )
    received = []

    async def read() -> None:
        async for chunk in stream_complete("Count", model=MODEL, eval_store=store):
            received.append(chunk)

    with pytest.raises(APIConnectionError):
        await read()
    (record,) = await recorded(store)
    assert received  # part of the answer arrived before the cut
    assert record.operation == "stream_complete"
    assert record.success is False
    assert record.error_type == "APIConnectionError"
    assert record.retry_attempts == 0  # a stream is never replayed once delivered
    assert len(fake_provider_env.chat_requests) == 1
