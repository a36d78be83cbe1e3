"""The offline test model embeds: deterministic vectors, usage, batching, no network."""

from __future__ import annotations

import pytest

from gluellm.api import GlueLLM, embed
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm.testing import fake_embedding
from gluellm_plugins_mock import plugin
from gluellm_plugins_mock.test_model import TestModelTransport


@pytest.fixture(autouse=True)
def runtime():
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(plugin, name="mock")
    with use_runtime(Runtime(manager)) as rt:
        yield rt


async def test_equal_texts_get_equal_unit_vectors_in_input_order():
    result = await embed(["alpha beta", "gamma", "alpha beta"], model="test:embed")

    assert result.count == 3
    assert result.dimension == 8
    assert result.embeddings[0] == result.embeddings[2] != result.embeddings[1]
    assert result.embeddings[1] == fake_embedding("gamma", 8)
    assert sum(x * x for x in result.embeddings[0]) == pytest.approx(1.0)
    assert result.tokens_used == 5  # one per word
    assert result.estimated_cost_usd is None  # nobody prices the offline model


async def test_dimensions_from_extra_params_and_the_client_model():
    client = GlueLLM(embedding_model="test:embed")

    result = await client.embed("hello", extra_params={"dimensions": 3})

    assert result.dimension == 3
    assert result.model == "test:embed"


async def test_the_default_embedding_model_can_be_the_offline_model(monkeypatch):
    monkeypatch.setenv("GLUELLM_DEFAULT_EMBEDDING_MODEL", "test/offline")
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(plugin, name="mock")
    runtime = Runtime(manager, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    with use_runtime(runtime):
        result = await embed("no network here")

    assert result.model == "test/offline"
    assert result.embeddings[0] == fake_embedding("no network here", 8)


async def test_long_lists_are_split_to_the_transports_limit(runtime, monkeypatch):
    monkeypatch.setattr(TestModelTransport, "embed_batch_limit", 4)
    texts = [f"t{i}" for i in range(10)]

    result = await embed(texts, model="test:embed")

    assert result.embeddings == [fake_embedding(t, 8) for t in texts]
    assert runtime.transport_for("test").calls == 3  # 4 + 4 + 2
