"""Error classification with constructed any-llm and SDK exceptions (no network)."""

from __future__ import annotations

import email.utils
import time

import httpx2
import openai
import pytest
from any_llm import exceptions as ax

from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    RateLimitError,
    TokenLimitError,
)
from gluellm_plugins_anyllm.errors import classify, classify_stream_error, parse_retry_after

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def status_error(status: int, body: dict[str, object] | None = None, **headers: str) -> Exception:
    response = httpx2.Response(status, headers=headers, request=REQUEST, json=body or {})
    return openai.APIStatusError(f"Error code: {status}", response=response, body=body)


def unified(cls: type[ax.AnyLLMError], original: Exception, **kw: object) -> ax.AnyLLMError:
    status = getattr(original, "status_code", None)
    error = cls(str(original), original, "openai", status_code=status)
    for name, value in kw.items():
        setattr(error, name, value)
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (unified(ax.RateLimitError, status_error(429)), RateLimitError),
        (unified(ax.AuthenticationError, status_error(401)), AuthenticationError),
        (unified(ax.AuthenticationError, status_error(403)), AuthenticationError),
        (unified(ax.ContextLengthExceededError, status_error(400)), TokenLimitError),
        (unified(ax.InvalidRequestError, status_error(400)), InvalidRequestError),
        (unified(ax.ModelNotFoundError, status_error(404)), InvalidRequestError),
        (unified(ax.InvalidRequestError, status_error(422)), InvalidRequestError),
        (unified(ax.ProviderError, status_error(500)), APIConnectionError),
        (unified(ax.ProviderError, status_error(503)), APIConnectionError),
        (unified(ax.UpstreamProviderError, status_error(502)), APIConnectionError),
        (unified(ax.GatewayTimeoutError, status_error(504)), APIConnectionError),
    ],
)
def test_unified_exceptions_map_by_status_and_class(error: Exception, expected: type) -> None:
    classified = classify(error, "openai", "cid-1")
    assert type(classified) is expected
    assert "cid-1" in str(classified)


def test_status_code_wins_over_a_misleading_class() -> None:
    # any-llm guesses from message text when it has to; a 429 status is what was said.
    error = unified(ax.ProviderError, status_error(429))
    assert isinstance(classify(error, "openai", "c"), RateLimitError)


def test_status_code_is_the_fallback_when_the_class_is_unknown() -> None:
    error = ax.AnyLLMError("odd", status_error(401), "openai", status_code=401)
    assert isinstance(classify(error, "openai", "c"), AuthenticationError)
    assert isinstance(classify(status_error(418), "openai", "c"), InvalidRequestError)
    assert isinstance(classify(status_error(599), "openai", "c"), APIConnectionError)


def test_anthropic_prompt_too_long_is_a_token_limit() -> None:
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens"},
    }
    original = status_error(400, body)
    error = ax.InvalidRequestError(
        "prompt is too long: 210000 tokens > 200000 maximum", original, "anthropic", status_code=400
    )
    assert isinstance(classify(error, "anthropic", "c"), TokenLimitError)


def test_rate_limit_carries_retry_after_seconds() -> None:
    error = unified(
        ax.RateLimitError, status_error(429, **{"retry-after": "1.5"}), retry_after="1.5"
    )
    classified = classify(error, "openai", "c")
    assert isinstance(classified, RateLimitError)
    assert classified.retry_after == 1.5


def test_retry_after_read_from_headers_when_any_llm_had_none() -> None:
    error = unified(ax.RateLimitError, status_error(429, **{"retry-after": "3"}))
    classified = classify(error, "openai", "c")
    assert isinstance(classified, RateLimitError)
    assert classified.retry_after == 3.0


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = parse_retry_after(date)
    assert seconds is not None
    assert 25 <= seconds <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_timeouts_and_connection_errors() -> None:
    timeout = unified(ax.ProviderError, openai.APITimeoutError(request=REQUEST))
    connection = unified(ax.ProviderError, openai.APIConnectionError(request=REQUEST))
    assert type(classify(timeout, "openai", "c")) is APITimeoutError
    assert type(classify(connection, "openai", "c")) is APIConnectionError


def test_innermost_transport_cause_decides() -> None:
    # openai's aiohttp adapter reports a dropped connection as a connect timeout.
    dropped = ConnectionResetError("peer reset")
    mislabelled = httpx2.ConnectTimeout("reset")
    mislabelled.__cause__ = dropped
    outer = openai.APITimeoutError(request=REQUEST)
    outer.__cause__ = mislabelled
    assert type(classify(unified(ax.ProviderError, outer), "openai", "c")) is APIConnectionError


def test_missing_key_unsupported_parameter_and_missing_package() -> None:
    missing = ax.MissingApiKeyError("mistral", "MISTRAL_API_KEY")
    assert isinstance(classify(missing, "mistral", "c"), AuthenticationError)
    unsupported = ax.UnsupportedParameterError("timeout", "ollama")
    assert isinstance(classify(unsupported, "ollama", "c"), InvalidRequestError)
    assert isinstance(classify(ImportError("no sdk"), "gemini", "c"), ConfigurationError)


def test_errors_mid_stream_are_connection_errors_unless_a_status_says_otherwise() -> None:
    cut = unified(ax.InvalidRequestError, httpx2.RemoteProtocolError("incomplete chunked read"))
    assert type(classify_stream_error(cut, "openai", "c")) is APIConnectionError
    limited = unified(ax.RateLimitError, status_error(429))
    assert isinstance(classify_stream_error(limited, "openai", "c"), RateLimitError)


def test_already_classified_errors_pass_through() -> None:
    error = RateLimitError("x", retry_after=2)
    assert classify(error, "openai", "c") is error
