"""``gluellm chat``: streamed multi-turn sessions driven through stdin."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gluellm import hookimpl
from gluellm.call import ModelCall, ModelResponse
from gluellm.cli import build_app
from gluellm.errors import AuthenticationError
from gluellm.models.conversation import Conversation
from gluellm.plugins import create_plugin_manager
from gluellm.testing import FunctionTransport, reply, tool_call


def answer(call: ModelCall) -> ModelResponse | str:
    """Call the first offered tool on a new user message; otherwise list what it was sent."""
    last = call.messages[-1]
    if call.tools and last.get("role") == "user":
        name = call.tools[0]["function"]["name"]
        return reply(tool_calls=[tool_call(name, {"city": "Oslo"})])
    if last.get("role") == "tool":
        return f"the tool said {last.get('content')}"
    if last.get("content") == "fail please":
        raise AuthenticationError("key rejected")
    users = [m.get("content") for m in call.messages if m.get("role") == "user"]
    system = " ".join(str(m.get("content")) for m in call.messages if m.get("role") == "system")
    style = "terse" if "Be terse." in system else "plain"
    return f"you said {' | '.join(str(u) for u in users)} [{style}]"


class Chat:
    """The ``test`` provider for chat sessions, recording every call."""

    def __init__(self) -> None:
        self.transport = FunctionTransport(answer)

    @hookimpl
    def register_transports(self, register: Any) -> None:
        register("test", lambda: self.transport)


@pytest.fixture
def chat() -> Chat:
    return Chat()


def _run(chat: Chat, stdin: str, *args: str) -> Any:
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(chat)
    return CliRunner().invoke(build_app(manager), ["chat", "-m", "test:chat", *args], input=stdin)


def test_turns_remember_earlier_ones_and_stream(chat: Chat) -> None:
    result = _run(chat, "hello\nagain\n", "--system", "Be terse.")
    assert result.exit_code == 0, result.output
    assert "assistant> you said hello [terse]" in result.output
    assert "assistant> you said hello | again [terse]" in result.output
    assert all(call.stream for call in chat.transport.calls)
    assert result.output.rstrip().endswith("bye")


def test_reset_forgets_and_exit_stops_reading(chat: Chat) -> None:
    result = _run(chat, "one\n/reset\ntwo\n/exit\nthree\n")
    assert result.exit_code == 0, result.output
    assert "you said two [" in result.output
    assert "three" not in result.output
    assert len(chat.transport.calls) == 2


def test_save_and_load_round_trip_a_conversation(chat: Chat, tmp_path: Path) -> None:
    saved = tmp_path / "chat.json"
    result = _run(chat, f"first\n/save {saved}\n/reset\n/load {saved}\nsecond\n")
    assert result.exit_code == 0, result.output
    conversation = Conversation.model_validate_json(saved.read_text())
    assert conversation.messages[0].content == "first"
    assert len(conversation.messages) == 2
    assert "you said first | second" in result.output  # the loaded turn was sent again


def test_load_at_start(chat: Chat, tmp_path: Path) -> None:
    saved = tmp_path / "start.json"
    conversation = Conversation()
    conversation.add_message("user", "remembered")  # type: ignore[arg-type]
    conversation.add_message("assistant", "ok")  # type: ignore[arg-type]
    saved.write_text(conversation.model_dump_json())
    result = _run(chat, "next\n", "--load", str(saved))
    assert result.exit_code == 0, result.output
    assert "you said remembered | next" in result.output


def test_tools_from_module_function(
    chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "chat_tools_mod.py").write_text(
        textwrap.dedent(
            '''
            def forecast(city: str) -> str:
                """Forecast.

                Args:
                    city: The city.
                """
                return f"rain in {city}"
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "chat_tools_mod", raising=False)
    result = _run(chat, "weather?\n", "--tools", "chat_tools_mod:forecast")
    assert result.exit_code == 0, result.output
    assert "tools: forecast" in result.output
    assert "[tool] forecast(" in result.output
    assert "-> rain in Oslo" in result.output
    assert "the tool said rain in Oslo" in result.output


def test_a_bad_tool_spec_is_one_line_and_exit_1(chat: Chat) -> None:
    result = _run(chat, "", "--tools", "no_such_module_xyz:f")
    assert result.exit_code == 1
    assert "error: --tools 'no_such_module_xyz:f': cannot import" in result.output


def test_failures_are_reported_and_the_session_goes_on_then_exits_1(
    chat: Chat, tmp_path: Path
) -> None:
    result = _run(chat, f"fail please\n/load {tmp_path / 'missing.json'}\nstill here\n")
    assert result.exit_code == 1
    assert "error: AuthenticationError: key rejected" in result.output
    assert "error: cannot load a conversation from" in result.output
    assert "you said still here" in result.output
    assert "error: 2 message(s) or command(s) failed in this session" in result.output
