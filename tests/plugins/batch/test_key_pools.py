"""Key pools in batches: the rate-limit plugin's pools spread, cool down and drop keys."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

import pytest

from gluellm.models.batch import APIKeyConfig
from gluellm.runtime import use_runtime
from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
from gluellm_plugins_batch import BatchConfig, BatchRequest, batch_complete
from gluellm_plugins_mock.fake_server import FakeReply, Fault

from .conftest import make_runtime


def _key_of(record):
    auth = record.headers.get("Authorization", "")
    return auth.removeprefix("Bearer ") or record.headers.get("x-api-key", "")


@pytest.fixture
async def limited(server):
    runtime = make_runtime((aiolimiter_plugin, "aiolimiter"))
    with use_runtime(runtime):
        yield runtime
    await runtime.aclose()


def _keys(n, provider="openai", **limits):
    tag = uuid.uuid4().hex[:8]  # fresh keys: fresh windows and health in this process
    return [APIKeyConfig(key=f"sk-{tag}-{i}", provider=provider, **limits) for i in range(n)]


def _max_in_window(times, width):
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_three_keys_share_the_load_evenly_within_each_keys_limit(server, limited):
    # 60 rpm with burst 4: four at once, the next four once the first are 4 s old.
    keys = _keys(3, requests_per_minute=60, burst=4)
    n = 24
    requests = [BatchRequest(id=f"q{i}", user_message=f"q{i}") for i in range(n)]

    response = await batch_complete(requests, config=BatchConfig(max_concurrent=n, api_keys=keys))

    assert response.successful_requests == n
    by_key = defaultdict(list)
    for record in server.chat_requests:
        by_key[_key_of(record)].append(record.received_at)
    counts = Counter({k: len(v) for k, v in by_key.items()})
    assert set(counts) == {k.key.get_secret_value() for k in keys}
    even = n / 3
    assert all(abs(c - even) <= 0.1 * even for c in counts.values()), counts
    for times in by_key.values():
        # The second burst is admitted 4 s after the first; a 1 s window leaves 3 s for
        # a loaded machine to delay sends, and still catches a key that took more than
        # its burst at once. Any 60 s holds at most the key's 60.
        assert _max_in_window(times, 1.0) <= 4
        assert _max_in_window(times, 60.0) <= 60


async def test_a_rejected_key_leaves_the_pool_and_the_batch_still_succeeds(server, limited):
    good, bad = _keys(2, requests_per_minute=6000, burst=100)
    bad_key = bad.key.get_secret_value()

    def respond(record):
        if _key_of(record) == bad_key:
            return Fault.status(401, message="Incorrect API key provided")
        return FakeReply.text("ok")

    server.responder = respond
    response = await batch_complete(
        [BatchRequest(user_message=f"q{i}") for i in range(10)],
        config=BatchConfig(max_concurrent=1, api_keys=[bad, good]),
    )
    assert response.successful_requests == 10
    used = Counter(_key_of(r) for r in server.chat_requests)
    assert used[bad_key] == 1  # tried once, then dropped
    assert used[good.key.get_secret_value()] == 10


async def test_a_rate_limited_key_cools_down_while_others_carry_on(server, limited):
    first, second = _keys(2, requests_per_minute=6000, burst=100)
    limited_key = first.key.get_secret_value()
    answered_429 = []

    def respond(record):
        if _key_of(record) == limited_key and not answered_429:
            answered_429.append(record)
            return Fault.status(429, retry_after=60)
        return FakeReply.text("ok")

    server.responder = respond
    response = await batch_complete(
        [BatchRequest(user_message=f"q{i}") for i in range(6)],
        config=BatchConfig(max_concurrent=1, api_keys=[first, second]),
    )
    assert response.successful_requests == 6
    used = Counter(_key_of(r) for r in server.chat_requests)
    assert used[limited_key] == 1  # cooling down for 60 s: never used again in this batch


async def test_a_pool_mixes_providers(server, limited):
    openai_keys = _keys(2, requests_per_minute=6000, burst=100)
    [anthropic_key] = _keys(1, provider="anthropic", requests_per_minute=6000, burst=100)
    requests = [
        BatchRequest(user_message="a", model="openai:gpt-4o-mini"),
        BatchRequest(user_message="b", model="anthropic:claude-3-5-sonnet-20241022"),
        BatchRequest(user_message="c", model="openai:gpt-4o-mini"),
    ]
    response = await batch_complete(
        requests, config=BatchConfig(api_keys=[*openai_keys, anthropic_key])
    )
    assert response.successful_requests == 3
    sent = {(r.api, _key_of(r)) for r in server.chat_requests}
    assert ("anthropic", anthropic_key.key.get_secret_value()) in sent
    assert {k for api, k in sent if api == "openai"} == {
        k.key.get_secret_value() for k in openai_keys
    }


async def test_a_pool_without_the_rate_limit_plugin_is_refused(server, runtime):
    from gluellm.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="gluellm-plugins-aiolimiter"):
        await batch_complete(
            [BatchRequest(user_message="q")], config=BatchConfig(api_keys=_keys(1))
        )
