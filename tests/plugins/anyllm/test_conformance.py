"""The any-llm transport passes the shared transport conformance suite, on both HTTP stacks."""

from __future__ import annotations

import pytest

from gluellm_plugins_anyllm.transport import AnyLLMTransport
from gluellm_plugins_mock.conformance import TransportConformance


class TestAnyLLMConformance(TransportConformance):
    @pytest.fixture(params=["aiohttp", "httpx"])
    def transport_factory(self, request):
        return lambda: AnyLLMTransport("openai", request.param)
