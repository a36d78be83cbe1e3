"""The lean openai-http transport passes the shared transport conformance suite."""

from __future__ import annotations

import pytest

from gluellm_plugins_mock.conformance import TransportConformance
from gluellm_plugins_openai_http.transport import OpenAIHTTPTransport


class TestOpenAIHTTPConformance(TransportConformance):
    @pytest.fixture
    def transport_factory(self):
        return lambda: OpenAIHTTPTransport("openai")


class TestOpenAIHTTPProviderConformance(TransportConformance):
    """The same transport under its own provider name, ``openai-http``."""

    @pytest.fixture
    def conformance_provider(self):
        return "openai-http"

    @pytest.fixture
    def transport_factory(self):
        return lambda: OpenAIHTTPTransport("openai-http")
