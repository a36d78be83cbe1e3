"""Over real HTTP: a runtime with only the any-llm transport, and a schema-aware responder."""

from __future__ import annotations

import json
from typing import Any

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_mock.fake_server import FakeReply
from gluellm_plugins_mock.fake_server.steps import RecordedRequest
from gluellm_plugins_mock.schema_values import value_for_schema

HTTP_MODEL = "openai:gpt-4o-mini"


def http_runtime() -> Runtime:
    """Any-llm only (no retries, no limits); every agent without a model uses HTTP_MODEL."""
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    settings = Settings(_env_file=None, default_model=HTTP_MODEL)  # type: ignore[call-arg]
    return Runtime(manager, settings=settings)


def schema_of(request: RecordedRequest) -> dict[str, Any] | None:
    """The JSON schema the request asks the answer to follow, if any."""
    response_format = request.body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        return dict(response_format["json_schema"]["schema"])
    return None


class Responder:
    """Schema-valid JSON when the request has a response_format, text otherwise.

    Attributes:
        structured: How many requests asked for structured output.
    """

    def __init__(self) -> None:
        self.structured = 0
        self.texts = 0

    def __call__(self, request: RecordedRequest) -> FakeReply:
        schema = schema_of(request)
        if schema is not None:
            self.structured += 1
            return FakeReply.text(json.dumps(value_for_schema(schema)))
        self.texts += 1
        return FakeReply.text(f"Answer {self.texts} from the fake provider.")
