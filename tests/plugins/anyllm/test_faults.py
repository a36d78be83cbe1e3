"""Every injected fault maps to the right GlueLLM error after exactly one HTTP request.

One request per fault proves the provider SDKs' own retries are off: with the SDK
defaults, a 429, a 500 or a dropped connection would be sent three times. Each test
runs once per HTTP stack (aiohttp and httpx2) under the openai SDK.
"""

from __future__ import annotations

import pytest

from gluellm.api import complete
from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    RateLimitError,
    TokenLimitError,
)
from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

pytestmark = pytest.mark.usefixtures("runtime", "stack")

MODELS = ("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-20241022")

FAULTS = [
    pytest.param(Fault.status(429, retry_after=0.25), RateLimitError, id="429"),
    pytest.param(Fault.status(401), AuthenticationError, id="401"),
    pytest.param(Fault.status(403), AuthenticationError, id="403"),
    pytest.param(Fault.context_length(), TokenLimitError, id="context-length"),
    pytest.param(Fault.status(400), InvalidRequestError, id="400"),
    pytest.param(Fault.status(404), InvalidRequestError, id="404"),
    pytest.param(Fault.status(500), APIConnectionError, id="500"),
    pytest.param(Fault.status(503), APIConnectionError, id="503"),
    pytest.param(Fault.drop_connection(), APIConnectionError, id="dropped"),
    pytest.param(Fault.cut_stream(after_chunks=1), APIConnectionError, id="cut-body"),
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(("fault", "expected"), FAULTS)
async def test_fault_is_classified_after_one_request(
    server: FakeProviderServer, model: str, fault: Fault, expected: type[Exception]
) -> None:
    server.enqueue(fault)
    with pytest.raises(expected) as caught:
        await complete("hello", model=model)

    assert len(server.chat_requests) == 1
    assert caught.value.__cause__ is not None  # the provider's exception stays reachable
    assert server.chat_requests[0].headers["X-Correlation-ID"] in str(caught.value)
    if expected is APIConnectionError:
        # A dropped connection is not a timeout, whatever the HTTP adapter calls it.
        assert not isinstance(caught.value, APITimeoutError)


@pytest.mark.parametrize("model", MODELS)
async def test_rate_limit_carries_retry_after(server: FakeProviderServer, model: str) -> None:
    server.enqueue(Fault.status(429, retry_after=0.25))
    with pytest.raises(RateLimitError) as caught:
        await complete("hello", model=model)
    assert caught.value.retry_after == 0.25


@pytest.mark.parametrize("model", MODELS)
async def test_timeout_is_per_attempt_and_sent_once(server: FakeProviderServer, model: str) -> None:
    server.enqueue(Fault.delay(5.0, then=FakeReply.text("too late")))
    with pytest.raises(APITimeoutError):
        await complete("hello", model=model, timeout=0.3)
    assert len(server.chat_requests) == 1


async def test_the_rejected_key_is_not_repeated_in_the_error(server: FakeProviderServer) -> None:
    # The fake server, like some providers, echoes the key it rejected.
    secret = "sk-test-very-secret-key-123"
    server.enqueue(Fault.status(401, message=f"Incorrect API key provided: {secret}."))
    with pytest.raises(AuthenticationError) as caught:
        await complete("hello", model="openai:gpt-4o-mini", api_key=secret)
    assert secret not in str(caught.value)
    assert server.chat_requests[0].headers["Authorization"] == f"Bearer {secret}"
