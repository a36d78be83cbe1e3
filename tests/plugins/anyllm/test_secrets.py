"""API keys never escape: not in the error, its chained provider exceptions, or any log.

The fake server plays a gateway that repeats the key it received in its error body.
The key comes from the environment or from ``api_key=``; the caller formats the error's
whole traceback (causes included), logs it with loguru's ``logger.exception`` (whose
default ``diagnose=True`` prints the value of every variable on every traceback line),
and every sink, loguru's and the standard library's, is searched for the key.
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import AsyncIterator, Iterator

import pytest
from loguru import logger

from gluellm.api import GlueLLM
from gluellm.errors import APIConnectionError, AuthenticationError, LLMError
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_mock.fake_server import FakeProviderServer, Fault

from .conftest import make_runtime

# Built at run time, so that no test line holds the key as a literal.
SECRET = "".join(["sk-proj-", "gluellm", "-0123456789abcdef"])
PROVIDERS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
MODELS = {"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-3-5-sonnet-20241022"}


@pytest.fixture
def sinks() -> Iterator[list[io.StringIO]]:
    """A loguru sink with its defaults (diagnose, backtrace) and a root logging handler."""
    loguru_text = io.StringIO()
    sink_id = logger.add(loguru_text, level="DEBUG", diagnose=True, backtrace=True)
    logging_text = io.StringIO()
    handler = logging.StreamHandler(logging_text)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield [loguru_text, logging_text]
    finally:
        logger.remove(sink_id)
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.fixture
async def retrying(server: FakeProviderServer) -> AsyncIterator[Runtime]:
    """The any-llm transport plus the retry plugin (its retry logs are sinks too)."""
    stamina_plugin = pytest.importorskip("gluellm_plugins_stamina.plugin")
    fresh = make_runtime(retry_min_wait=0.001, retry_max_wait=0.002, retry_max_attempts=2)
    fresh.plugin_manager.register(stamina_plugin, name="stamina")
    with use_runtime(fresh):
        yield fresh
    await fresh.aclose()


def client_for(
    provider: str, source: str, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> GlueLLM:
    if source == "env":
        monkeypatch.setenv(PROVIDERS[provider], SECRET)
        return GlueLLM(model=MODELS[provider], runtime=runtime)
    return GlueLLM(model=MODELS[provider], api_key=SECRET, runtime=runtime)


def everything_printed(error: BaseException, sinks: list[io.StringIO]) -> str:
    """What a caller could print or log about ``error``."""
    try:
        raise error
    except LLMError:
        logger.exception("the call failed")
        logging.getLogger("app").exception("the call failed")
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts.extend(link_text for link_text in _chain_texts(error))
    texts.extend(sink.getvalue() for sink in sinks)
    return "\n".join(texts)


def _chain_texts(error: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = f"{type(current).__module__}.{type(current).__qualname__}"
        yield f"{kind} {current!s} {current!r} {getattr(current, 'body', '')!s}"
        current = current.__cause__ or current.__context__


@pytest.mark.parametrize("source", ["env", "api_key"])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize(
    ("status", "expected"), [(401, AuthenticationError), (503, APIConnectionError)]
)
async def test_a_key_echoed_by_a_gateway_appears_nowhere(
    server: FakeProviderServer,
    retrying: Runtime,
    sinks: list[io.StringIO],
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    source: str,
    status: int,
    expected: type[LLMError],
) -> None:
    server.enqueue(Fault.echo_key(status), Fault.echo_key(status))
    client = client_for(provider, source, monkeypatch, retrying)

    with pytest.raises(expected) as caught:
        await client.complete("hi")

    # The gateway really did echo it: the provider's body had the key in it.
    assert SECRET in server.chat_requests[0].headers.get(
        "Authorization", server.chat_requests[0].headers.get("x-api-key", "")
    )
    printed = everything_printed(caught.value, sinks)
    assert "Invalid API key provided: sk-p" in printed  # the message itself survives
    assert SECRET not in printed


@pytest.mark.parametrize("source", ["env", "api_key"])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_a_key_echoed_inside_a_stream_appears_nowhere(
    server: FakeProviderServer,
    runtime: Runtime,
    sinks: list[io.StringIO],
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    source: str,
) -> None:
    message = f"Invalid API key provided: {SECRET}"
    server.enqueue(Fault.stream_error(after_chunks=3, status=401, message=message))
    client = client_for(provider, source, monkeypatch, runtime)

    with pytest.raises(LLMError) as caught:
        async for _ in client.stream_complete("hi"):
            pass

    printed = everything_printed(caught.value, sinks)
    assert SECRET not in printed


async def test_the_provider_exception_stays_chained(
    server: FakeProviderServer, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Fault.echo_key())
    client = client_for("openai", "api_key", monkeypatch, runtime)

    with pytest.raises(AuthenticationError) as caught:
        await client.complete("hi")

    _, any_llm, sdk, *_ = _chain_texts(caught.value)  # then httpx's, without the body
    assert "any_llm" in any_llm
    assert "openai.AuthenticationError" in sdk
    assert all("Invalid API key provided: sk-p…redacted" in text for text in (any_llm, sdk))
