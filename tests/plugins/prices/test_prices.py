"""The prices plugin gives genai-prices' own figures, fast, and None for what it does not know."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price
from loguru import logger

import gluellm_plugins_prices.pricing as pricing
from gluellm import hookimpl
from gluellm.call import Usage
from gluellm.costs import estimate_cost
from gluellm_plugins_prices import price_usd, provider_id

from .conftest import make_runtime


def genai(model: str, provider: str, prompt: int, completion: int) -> float:
    usage = PriceUsage(input_tokens=prompt, output_tokens=completion)
    return float(calc_price(usage, model, provider_id=provider).total_price)


@pytest.mark.parametrize(
    ("provider", "model", "genai_provider"),
    [
        ("openai", "gpt-4o-mini", "openai"),
        ("openai-http", "gpt-4o-mini", "openai"),  # the lean transport's provider name
        ("openai", "text-embedding-3-small", "openai"),
        ("anthropic", "claude-3-5-haiku-latest", "anthropic"),
        ("xai", "grok-3", "x-ai"),
        ("gemini", "gemini-2.0-flash", "google"),
        ("gemini", "gemini-2.5-pro", "google"),  # tiered above 200k input tokens
        ("groq", "llama-3.1-8b-instant", "groq"),
        ("mistral", "mistral-embed", "mistral"),
    ],
)
@pytest.mark.parametrize(("prompt", "completion"), [(1, 0), (1234, 567), (300_000, 2_000)])
def test_the_cost_equals_genai_prices_own_figure(
    provider, model, genai_provider, prompt, completion
):
    cost = price_usd(provider, model, Usage(prompt, completion, prompt + completion))
    again = price_usd(provider, model, Usage(prompt, completion, prompt + completion))

    assert cost == again == genai(model, genai_provider, prompt, completion)


def test_through_the_hook_both_model_spellings_are_priced(runtime):
    usage = Usage(1000, 100, 1100)
    expected = genai("gpt-4o-mini", "openai", 1000, 100)

    for model in ("openai:gpt-4o-mini", "openai/gpt-4o-mini"):
        assert estimate_cost(runtime, model, "openai", usage, "chat") == expected


def test_an_unknown_model_costs_none_with_a_debug_log(runtime):
    messages: list[str] = []
    sink = logger.add(messages.append, level="DEBUG", format="{message}")
    try:
        cost = estimate_cost(runtime, "openai:no-such-model-9", "openai", Usage(10, 1, 11))
    finally:
        logger.remove(sink)

    assert cost is None
    assert any("no-such-model-9" in m and "genai-prices" in m for m in messages)


@pytest.mark.parametrize("provider", ["ollama", "llamacpp", "vllm", "test", "scripted"])
def test_self_hosted_and_unknown_providers_are_never_priced(provider):
    # genai-prices would match "llama-3.1-8b-instant" by name; a local model is not billed.
    assert provider_id(provider) == ()
    assert price_usd(provider, "llama-3.1-8b-instant", Usage(1000, 100, 1100)) is None


def test_a_model_is_looked_up_once_then_priced_from_the_cache(monkeypatch):
    lookups: list[str] = []
    real = pricing._lookup

    def counting(ids, name, now):
        lookups.append(name)
        return real(ids, name, now)

    monkeypatch.setattr(pricing, "_lookup", counting)
    for prompt in range(1, 50):
        price_usd("openai", "gpt-4o-mini", Usage(prompt, 1, prompt + 1))
    price_usd("openai", "no-such-model-9", Usage(1, 1, 2))
    price_usd("openai", "no-such-model-9", Usage(1, 1, 2))

    assert lookups == ["gpt-4o-mini", "no-such-model-9"]


def test_a_cached_price_is_looked_up_again_after_its_ttl(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(pricing, "_clock", lambda: clock[0])
    price_usd("openai", "gpt-4o-mini", Usage(1, 1, 2))
    first = pricing._cache[("openai", "gpt-4o-mini")]

    clock[0] += pricing.PRICE_TTL + 1
    price_usd("openai", "gpt-4o-mini", Usage(1, 1, 2))

    assert pricing._cache[("openai", "gpt-4o-mini")] is not first


def test_user_prices_win_over_the_plugin():
    runtime = make_runtime(model_prices={"openai:gpt-4o-mini": {"input": 1.0, "output": 2.0}})

    cost = estimate_cost(runtime, "openai/gpt-4o-mini", "openai", Usage(1_000_000, 500_000, 0))

    assert cost == pytest.approx(2.0)


class SelfHosted:
    """A plugin that prices its own models before the prices plugin is asked."""

    @hookimpl(tryfirst=True)
    def estimate_cost(self, model, provider, usage, operation, runtime):
        if provider != "openai" or not model.endswith("acme-ft"):
            return None
        return usage.total_tokens * 1e-6


def test_a_tryfirst_plugin_prices_its_own_models_and_leaves_the_rest():
    runtime = make_runtime(SelfHosted())
    usage = Usage(1000, 100, 1100)

    assert estimate_cost(runtime, "openai:acme-ft", "openai", usage) == pytest.approx(0.0011)
    assert estimate_cost(runtime, "openai:gpt-4o-mini", "openai", usage) == genai(
        "gpt-4o-mini", "openai", 1000, 100
    )


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "GLUELLM_LOAD_PLUGINS": "prices"},
        timeout=60,
        check=True,
    ).stdout


def test_loading_the_plugin_does_not_import_genai_prices():
    out = _run(
        "import sys\n"
        "from gluellm.plugins import create_plugin_manager\n"
        "manager = create_plugin_manager()\n"
        "print(sorted(name for name, _ in manager.list_name_plugin()))\n"
        "print('genai_prices' in sys.modules)\n"
    )
    names, imported = out.strip().splitlines()
    assert "prices" in names
    assert imported == "False"


def test_startup_loads_genai_prices_in_the_background():
    out = _run(
        "import asyncio, sys\n"
        "from gluellm.runtime import Runtime\n"
        "from gluellm.plugins import create_plugin_manager\n"
        "from gluellm_plugins_prices import plugin\n"
        "async def main():\n"
        "    runtime = Runtime(create_plugin_manager())\n"
        "    await runtime.startup()\n"
        "    plugin._warming[0].join(30)\n"
        "    print('genai_prices' in sys.modules)\n"
        "asyncio.run(main())\n"
    )
    assert out.strip() == "True"


def test_a_genai_prices_failure_is_a_miss_not_an_error(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("Invalid price value for input_mtok")

    monkeypatch.setattr("genai_prices.calc_price", broken)

    assert price_usd("openai", "gpt-4o-mini", Usage(1, 1, 2)) is None
    assert "ValueError" in pricing._cache[("openai", "gpt-4o-mini")].reason
