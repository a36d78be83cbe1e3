"""The fake server's building blocks: scripted steps, default answers, error shapes."""

from __future__ import annotations

import json

import pytest

from gluellm_plugins_mock.fake_server import FakeReply, FakeToolCall, Fault, RecordedRequest
from gluellm_plugins_mock.fake_server.defaults import (
    default_reply,
    estimate_usage,
    split_arguments,
    split_tokens,
)
from gluellm_plugins_mock.fake_server.errors import anthropic_error, openai_error


def chat(**body) -> RecordedRequest:
    return RecordedRequest("POST", "/v1/chat/completions", {}, body, 0.0)


@pytest.mark.parametrize("text", ["", "one", "two words", "  lead and trail  ", "a\nb\t c", " "])
def test_split_tokens_joins_back_to_the_text(text):
    pieces = split_tokens(text)

    assert "".join(pieces) == text
    assert all(piece for piece in pieces)


def test_split_tokens_gives_one_word_per_piece():
    assert split_tokens("The quick  brown") == ["The", " quick", "  brown"]


def test_split_arguments_splits_long_json_and_joins_back():
    text = json.dumps({"location": "Tokyo", "units": "celsius"})

    pieces = split_arguments(text)

    assert len(pieces) > 2
    assert "".join(pieces) == text


def test_fake_reply_constructors():
    reply = FakeReply.tool_calls(
        ("a", {"x": 1}), ("b", "{bad", "call_b"), FakeToolCall("c"), content="hi", usage=(1, 2)
    )

    assert reply.tool_calls == reply.calls
    assert [c.name for c in reply.tool_calls] == ["a", "b", "c"]
    assert json.loads(reply.tool_calls[0].arguments) == {"x": 1}
    assert (reply.tool_calls[1].arguments, reply.tool_calls[1].id) == ("{bad", "call_b")
    assert reply.tool_calls[2].arguments == "{}"
    assert (reply.content, reply.usage, reply.finish_reason) == ("hi", (1, 2), "tool_calls")
    assert FakeReply.json({"a": [1]}).content == '{"a": [1]}'
    assert FakeReply.text("t").finish_reason == "stop"


def test_faults_are_values():
    assert Fault.status(429, retry_after=1.0) == Fault.status(429, retry_after=1.0)
    assert isinstance(Fault.delay(1), Fault)
    assert Fault.context_length().http_status == 400
    assert Fault.cut_stream().after_chunks == 3


def test_usage_is_estimated_from_word_counts_unless_given():
    request = chat(messages=[{"role": "user", "content": [{"type": "text", "text": "a b c"}]}])

    assert estimate_usage(request, FakeReply.text("x y")) == (3, 2)
    assert estimate_usage(request, FakeReply.text("", usage=(7, 9))) == (7, 9)
    assert estimate_usage(chat(), FakeReply.text("")) == (1, 1)


def test_tool_choice_required_calls_the_first_tool():
    tools = [
        {"type": "function", "function": {"name": "first", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "second"}},
    ]

    reply = default_reply(chat(messages=[], tools=tools, tool_choice="required"))

    assert [c.name for c in reply.calls] == ["first"]
    assert json.loads(reply.calls[0].arguments) == {}


def test_a_tool_choice_naming_an_unknown_tool_gets_text():
    tools = [{"type": "function", "function": {"name": "known"}}]
    choice = {"type": "function", "function": {"name": "unknown"}}

    reply = default_reply(chat(messages=[], tools=tools, tool_choice=choice))

    assert reply.calls == ()
    assert reply.content == "Hello from the fake provider."


def test_json_object_mode_gets_a_json_object():
    request = chat(
        messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_object"}
    )

    assert json.loads(default_reply(request).content) == {"text": "Echo: hi"}


def test_openai_rate_limit_error_shape():
    body, headers = openai_error(Fault.status(429, retry_after=2.0), "req_1")

    assert body["error"]["type"] == "requests"
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert headers["retry-after"] == "2"
    assert headers["retry-after-ms"] == "2000"
    assert headers["x-request-id"] == "req_1"


def test_unlisted_statuses_get_a_generic_body_of_the_right_class():
    openai_body, _ = openai_error(Fault.status(418), "r")
    server_body, _ = openai_error(Fault.status(502), "r")
    anthropic_body, headers = anthropic_error(Fault.status(502), "r")

    assert openai_body["error"]["type"] == "invalid_request_error"
    assert server_body["error"]["type"] == "server_error"
    assert anthropic_body["error"]["type"] == "api_error"
    assert "retry-after" not in headers
