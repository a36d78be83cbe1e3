"""Settings from GLUELLM_* variables and .env, and reload_settings."""

from __future__ import annotations

import pytest

from gluellm import config


@pytest.fixture
def clean_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    yield tmp_path
    monkeypatch.undo()
    config.reload_settings()


def test_defaults_match_the_spec(clean_settings):
    settings = config.reload_settings()
    assert settings.default_model == "openai:gpt-4o-mini"
    assert settings.max_tool_iterations == 10
    assert settings.retry_max_attempts == 3
    assert settings.rate_limit_requests_per_minute == 60
    assert settings.eval_recording_path == "logs/eval_records.jsonl"


def test_environment_and_dotenv_and_reload(clean_settings, monkeypatch):
    (clean_settings / ".env").write_text(
        "GLUELLM_DEFAULT_MODEL=anthropic:claude-3-5-sonnet-20241022\nGLUELLM_MAX_TOOL_ITERATIONS=4\n"
    )
    monkeypatch.setenv("GLUELLM_MAX_TOOL_ITERATIONS", "7")  # the environment beats .env
    monkeypatch.setenv("GLUELLM_OPENAI_API_KEY", "sk-secret")
    settings = config.reload_settings()
    assert config.settings is settings
    assert settings.default_model == "anthropic:claude-3-5-sonnet-20241022"
    assert settings.max_tool_iterations == 7
    assert settings.api_key_for("openai") == "sk-secret"
    assert "sk-secret" not in repr(settings)


def test_keys_for_undeclared_providers_come_from_the_environment(clean_settings, monkeypatch):
    monkeypatch.setenv("GLUELLM_GROQ_API_KEY", "gsk-1")
    assert config.reload_settings().api_key_for("groq") == "gsk-1"
    assert config.settings.api_key_for("mistral") is None


def test_invalid_values_are_rejected_with_the_variable_name(clean_settings, monkeypatch):
    monkeypatch.setenv("GLUELLM_MAX_TOOL_ITERATIONS", "0")
    with pytest.raises(ValueError, match="max_tool_iterations"):
        config.reload_settings()
