"""What a call accepts and does: parameters, bad input, timeouts, costs, budgets, settings."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from gluellm import hookimpl
from gluellm.api import GlueLLM, complete, embed, structured_complete
from gluellm.call import Usage
from gluellm.config import ModelPrice, PluginSettings, Settings
from gluellm.costs import Budget
from gluellm.errors import APITimeoutError, BudgetExceededError
from gluellm.runtime import Runtime, use_runtime
from gluellm.setting_owners import UnreadSettingWarning, unread_settings
from gluellm.testing import ScriptedTransport, reply, tool_call
from gluellm.tools import Tool

from .conftest import MODEL, ScriptedProvider


def lookup(city: str) -> str:
    """Look a city up."""
    return f"{city}: fine"


# --- bad input is refused before anything is sent ---------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be more than 0"),
        ({"timeout": -1}, "timeout must be more than 0"),
        ({"model": ""}, "model must be a non-empty"),
        ({"model": 42}, "model must be a non-empty"),
        ({"temperature": 3}, "temperature must be between 0 and 2"),
        ({"max_tokens": 0}, "max_tokens must be a whole number"),
        ({"top_p": -0.1}, "top_p must be between 0 and 1"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop must be"),
        ({"tool_choice": "nonexistent"}, "names no tool of this call"),
        ({"extra_params": {"temperature": 1}}, "extra= repeats temperature"),
    ],
)
async def test_bad_parameters_fail_before_sending(scripted, kwargs, message):
    with pytest.raises(ValueError, match=message):
        await complete("hi", **{"model": MODEL, "tools": [lookup], **kwargs})
    assert scripted.calls == []


@pytest.mark.parametrize("user_message", [None, "", "   "])
async def test_an_empty_user_message_is_refused(scripted, user_message):
    with pytest.raises(ValueError, match="user_message must be a non-empty string"):
        await complete(user_message, model=MODEL)
    assert scripted.calls == []


@pytest.mark.parametrize("response_format", [dict, int, "Person", list[int]])
async def test_a_response_format_that_is_not_a_pydantic_model_is_refused(scripted, response_format):
    with pytest.raises(TypeError, match=r"pydantic model class \(a subclass of pydantic"):
        await structured_complete("hi", response_format, model=MODEL)
    assert scripted.calls == []


def test_a_tool_with_kwargs_says_what_to_do():
    def flexible(**options: Any) -> str:
        """Flexible."""
        return ""

    with pytest.raises(TypeError, match=r"takes \*\*options.*named parameters with type hints"):
        Tool.from_function(flexible)


async def test_tool_choice_required_needs_tools(scripted):
    with pytest.raises(ValueError, match="needs tools"):
        await complete("hi", model=MODEL, tool_choice="required")


# --- parameters reach the call ------------------------------------------------------


async def test_parameters_reach_the_call_in_wire_form(scripted):
    scripted.add("ok", "ok")
    client = GlueLLM(model=MODEL, tools=[lookup], temperature=0.5, seed=3)
    await client.complete("one", tool_choice="lookup", max_tokens=20, stop="END")
    await client.complete("two")
    first, second = (call.options for call in scripted.calls)
    assert first == {
        "temperature": 0.5,
        "seed": 3,
        "max_tokens": 20,
        "stop": "END",
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    }
    assert second == {"temperature": 0.5, "seed": 3}


async def test_per_call_model_overrides_the_clients(scripted):
    scripted.add("ok")
    await GlueLLM(model=MODEL).complete("hi", model="scripted:other")
    assert scripted.calls[0].model_name == "other"


# --- timeouts -----------------------------------------------------------------------


def test_a_default_per_attempt_timeout_and_call_deadline_exist():
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.default_request_timeout == 120
    assert settings.default_call_deadline == 600


async def test_the_default_timeout_bounds_a_hanging_attempt(plugin_manager):
    async def hang(call: Any) -> Any:
        await asyncio.sleep(30)

    provider = ScriptedProvider()
    provider.transport.add(hang)
    plugin_manager.register(provider)
    settings = Settings(_env_file=None, default_request_timeout=0.05)  # type: ignore[call-arg]
    with (
        use_runtime(Runtime(plugin_manager, settings=settings)),
        pytest.raises(APITimeoutError, match=r"did not answer within 0\.05 s"),
    ):
        await complete("hi", model=MODEL)


async def test_the_call_deadline_bounds_retries(plugin_manager):
    """A retry layer that keeps trying is cut off by the deadline across attempts."""
    attempts = 0

    class RetryForever:
        @hookimpl
        def get_retrier(self, call: Any, runtime: Any) -> Any:
            async def retry(call: Any, send: Any) -> Any:
                nonlocal attempts
                while True:
                    attempts += 1
                    try:
                        return await send(call)
                    except APITimeoutError:
                        await asyncio.sleep(0.01)

            return retry

    async def hang(call: Any) -> Any:
        await asyncio.sleep(30)

    provider = ScriptedProvider()
    provider.transport.add(*([hang] * 100))
    plugin_manager.register(provider)
    plugin_manager.register(RetryForever())
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, default_request_timeout=0.02, default_call_deadline=0.2
    )
    with (
        use_runtime(Runtime(plugin_manager, settings=settings)),
        pytest.raises(APITimeoutError, match=r"deadline of 0\.2 s, retries included"),
    ):
        await complete("hi", model=MODEL)
    assert attempts >= 2


# --- API keys come from the runtime's settings ---------------------------------------


async def test_the_runtimes_settings_supply_the_api_key(plugin_manager):
    provider = ScriptedProvider()
    provider.transport.add("ok")
    plugin_manager.register(provider)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings.openai_api_key = None
    runtime = Runtime(plugin_manager, settings=settings)
    with use_runtime(runtime):
        await complete("hi", model=MODEL)
    assert provider.transport.calls[0].api_key is None
    fixed = Settings(_env_file=None, anthropic_api_key="sk-from-settings")  # type: ignore[call-arg]
    provider.transport.add("ok")

    class AnthropicToo:
        @hookimpl
        def register_transports(self, register: Any) -> None:
            register("anthropic", lambda: provider.transport)

    plugin_manager.register(AnthropicToo())
    with use_runtime(Runtime(plugin_manager, settings=fixed)):
        await complete("hi", model="anthropic:claude")
    assert provider.transport.calls[1].api_key == "sk-from-settings"


# --- costs and budgets ----------------------------------------------------------------


def priced_runtime(plugin_manager: Any, transport: ScriptedTransport) -> Runtime:
    provider = ScriptedProvider()
    provider.transport = transport
    plugin_manager.register(provider)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        model_prices={MODEL: ModelPrice(input=1_000_000, output=2_000_000)},  # $1/$2 a token
    )
    return Runtime(plugin_manager, settings=settings)


async def test_user_prices_give_every_turn_and_run_its_cost(plugin_manager):
    transport = ScriptedTransport(
        reply(tool_calls=[tool_call("lookup", {"city": "Oslo"})], usage=(3, 1)),
        reply("done", usage=(5, 2)),
    )
    with use_runtime(priced_runtime(plugin_manager, transport)):
        result = await complete("hi", model=MODEL, tools=[lookup])
    assert result.estimated_cost_usd == pytest.approx(3 + 2 + 5 + 4)


async def test_a_pricing_plugin_prices_what_settings_do_not(plugin_manager, runtime):
    class Pricer:
        @hookimpl
        def estimate_cost(self, model: str, usage: Usage, operation: str) -> float | None:
            return usage.total_tokens * 0.5 if model == MODEL else None

    provider = ScriptedProvider()
    provider.transport.add(reply("ok", usage=(2, 2)), reply("ok", usage=(2, 2)))
    plugin_manager.register(provider)
    plugin_manager.register(Pricer())
    assert (await complete("hi", model=MODEL)).estimated_cost_usd == 2.0
    assert (await complete("hi", model="scripted:unknown")).estimated_cost_usd is None


async def test_a_pricing_plugin_that_raises_is_skipped_for_the_next_one(plugin_manager, runtime):
    class Broken:
        @hookimpl(tryfirst=True)
        def estimate_cost(self, model: str) -> float | None:
            raise ZeroDivisionError("bad price table")

    class Pricer:
        @hookimpl
        def estimate_cost(self, usage: Usage) -> float | None:
            return usage.total_tokens * 0.5

    provider = ScriptedProvider()
    provider.transport.add(reply("ok", usage=(2, 2)), reply("ok", usage=(2, 2)))
    plugin_manager.register(provider)
    plugin_manager.register(Pricer(), name="pricer")
    plugin_manager.register(Broken(), name="broken-pricer")
    for _ in range(2):
        assert (await complete("hi", model=MODEL)).estimated_cost_usd == 2.0
    failure = plugin_manager.hook_failures["broken-pricer", "estimate_cost"]
    assert (failure.count, failure.first_error) == (2, "ZeroDivisionError: bad price table")


def test_with_cost_is_evolve_for_every_field():
    import attrs

    from gluellm.call import ModelResponse, ToolCallRequest

    async def chunks():
        yield None

    response = ModelResponse(
        content="hi",
        tool_calls=(ToolCallRequest(id="1", name="t", arguments="{}"),),
        usage=Usage(1, 2, 3),
        finish_reason="stop",
        model="m",
        raw={"raw": True},
        stream=chunks(),
        embeddings=((0.5,),),
        estimated_cost_usd=1.0,
    )
    priced = response.with_cost(0.25)
    expected = attrs.evolve(response, estimated_cost_usd=0.25)
    # Every field is set to a non-default value above, so a field that with_cost does
    # not carry (a new one, or an eq=False one such as raw or stream) shows here.
    for field in attrs.fields(ModelResponse):
        assert getattr(response, field.name) != field.default, field.name
        assert getattr(priced, field.name) is getattr(expected, field.name), field.name


async def test_a_model_without_a_price_is_logged_once_not_on_every_call(plugin_manager, runtime):
    from loguru import logger

    class Pricer:
        @hookimpl
        def estimate_cost(self, model: str, usage: Usage, operation: str) -> float | None:
            return None

    provider = ScriptedProvider()
    provider.transport.add(*(reply("ok", usage=(2, 2)) for _ in range(3)))
    plugin_manager.register(provider)
    plugin_manager.register(Pricer())
    model = f"scripted:unpriced-{id(provider)}"  # the once-per-model memory is per process
    said: list[str] = []
    sink = logger.add(said.append, level="DEBUG", format="{message}")
    try:
        for _ in range(3):
            assert (await complete("hi", model=model)).estimated_cost_usd is None
    finally:
        logger.remove(sink)
    assert [line for line in said if "no price known" in line and model in line] == [
        f"no price known for model {model}; its cost is reported as None (said once per model)\n"
    ]


async def test_a_budget_stops_the_tool_loop_at_the_turn_that_would_start_over_it(plugin_manager):
    transport = ScriptedTransport(
        reply(tool_calls=[tool_call("lookup", {"city": "Oslo"})], usage=(3, 1)),  # $5
        reply(tool_calls=[tool_call("lookup", {"city": "Rome"})], usage=(3, 1)),  # $10 total
        reply("never sent"),
    )
    with (
        use_runtime(priced_runtime(plugin_manager, transport)),
        pytest.raises(BudgetExceededError) as caught,
    ):
        await complete("hi", model=MODEL, tools=[lookup], budget=Budget(max_cost_usd=8))
    assert len(transport.calls) == 2  # the third turn was never sent
    assert caught.value.result is not None
    assert caught.value.result.tool_calls_made == 2
    assert caught.value.result.estimated_cost_usd == pytest.approx(10)
    assert "reached the budget" in caught.value.reason


async def test_a_token_budget_on_the_client(scripted):
    scripted.add(reply(tool_calls=[tool_call("lookup", {"city": "Oslo"})], usage=(50, 10)), "never")
    client = GlueLLM(model=MODEL, tools=[lookup], budget=Budget(max_tokens=60))
    with pytest.raises(BudgetExceededError, match="60 tokens reached the budget of 60"):
        await client.complete("hi")
    assert len(scripted.calls) == 1


def test_budgets_refuse_negative_limits():
    with pytest.raises(ValueError, match="max_cost_usd"):
        Budget(max_cost_usd=-1)


async def test_embedding_cost_comes_from_the_price(plugin_manager):
    transport = ScriptedTransport()
    with use_runtime(priced_runtime(plugin_manager, transport)):
        result = await embed(["one two", "three"], model=MODEL)
    assert result.tokens_used == 3
    assert result.estimated_cost_usd == pytest.approx(3.0)  # 3 input tokens at $1 each


# --- plugin settings --------------------------------------------------------------------


class CacheSettings(PluginSettings):
    cache_ttl_s: float = 300.0
    reads = ("retry_max_attempts",)


class CachePlugin:
    @hookimpl
    def register_settings(self, register: Any) -> None:
        register(CacheSettings)


def test_a_plugin_declares_its_own_settings(plugin_manager, monkeypatch):
    monkeypatch.setenv("GLUELLM_CACHE_TTL_S", "12.5")
    plugin_manager.register(CachePlugin())
    runtime = Runtime(plugin_manager)
    assert runtime.settings_classes() == [CacheSettings]
    assert runtime.settings_for(CacheSettings).cache_ttl_s == 12.5
    assert runtime.settings_for(CacheSettings) is runtime.settings_for(CacheSettings)
    fixed = Runtime(plugin_manager, plugin_settings=[CacheSettings(cache_ttl_s=1)])
    assert fixed.settings_for(CacheSettings).cache_ttl_s == 1


def test_a_setting_no_plugin_reads_is_named_with_the_package_to_install():
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, eval_recording_enabled=True, retry_max_attempts=5, log_level="DEBUG"
    )
    assert unread_settings(settings, read=set()) == {
        "eval_recording_enabled": "gluellm-plugins-eval",
        "retry_max_attempts": "gluellm-plugins-stamina",
    }
    assert unread_settings(settings, read={"retry_max_attempts"}) == {
        "eval_recording_enabled": "gluellm-plugins-eval"
    }


def test_configure_warns_once_about_an_unread_setting(plugin_manager, monkeypatch):
    import gluellm.setting_owners as owners

    monkeypatch.setattr(owners, "_warned", set())
    settings = Settings(_env_file=None, enable_tracing=True)  # type: ignore[call-arg]
    with pytest.warns(UnreadSettingWarning, match="pip install gluellm-plugins-telemetry"):
        Runtime(plugin_manager, settings=settings).configure()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Runtime(plugin_manager, settings=settings).configure()  # once only


def test_a_setting_read_by_a_loaded_plugin_is_not_warned_about(plugin_manager, monkeypatch):
    import gluellm.setting_owners as owners

    monkeypatch.setattr(owners, "_warned", set())
    plugin_manager.register(CachePlugin())
    settings = Settings(_env_file=None, retry_max_attempts=7)  # type: ignore[call-arg]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Runtime(plugin_manager, settings=settings).configure()
