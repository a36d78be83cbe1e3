"""The first call the rate limit holds back is explained once, naming the setting to change."""

from __future__ import annotations

import asyncio

import pytest

from gluellm.call import ModelCall, ModelResponse
from gluellm.config import Settings
from gluellm_plugins_aiolimiter import middleware
from gluellm_plugins_aiolimiter.limits import Limit


class Backend:
    """Permits that take ``wait`` seconds to come."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        self.acquired: list[Limit] = []

    async def acquire(self, limit: Limit) -> None:
        self.acquired.append(limit)
        await asyncio.sleep(self.wait)

    async def try_acquire(self, limit: Limit) -> bool:
        return True


CALL = ModelCall(
    model="openai:gpt-4o-mini", provider="openai", model_name="gpt-4o-mini", messages=()
)


async def send(call: ModelCall) -> ModelResponse:
    return ModelResponse(content="ok")


@pytest.fixture(autouse=True)
def _not_explained_yet(monkeypatch):
    monkeypatch.setattr(middleware, "_wait_explained", False)


async def test_a_wait_is_explained_once_with_the_setting_that_raises_it(log_messages):
    backend = Backend(wait=middleware.WAIT_NOTICE_S * 1.5)
    limiter = middleware.build_rate_limiter(CALL, Settings(_env_file=None), backend)
    for _ in range(3):
        assert (await limiter(CALL, send)).content == "ok"
    assert len(backend.acquired) == 3
    notices = [m for m in log_messages if "Rate limit reached" in m]
    assert len(notices) == 1
    assert "GLUELLM_RATE_LIMIT_REQUESTS_PER_MINUTE" in notices[0]
    assert "60 requests per minute (the default)" in notices[0]
    assert "provider:openai" in notices[0]


async def test_calls_that_never_wait_are_not_explained(log_messages):
    backend = Backend(wait=0)
    settings = Settings(_env_file=None, rate_limit_requests_per_minute=600)
    limiter = middleware.build_rate_limiter(CALL, settings, backend)
    for _ in range(3):
        await limiter(CALL, send)
    assert not [m for m in log_messages if "Rate limit reached" in m]
    assert middleware._wait_explained is False
