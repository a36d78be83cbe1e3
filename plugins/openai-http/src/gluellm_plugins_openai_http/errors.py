"""HTTP answers and network failures, classified into GlueLLM's errors.

The status decides where it is unambiguous; the body decides a 4xx that is really a
full context window (OpenAI, llama.cpp, vLLM, Ollama and LM Studio each word it their
own way). Every message ends with the provider and the correlation ID, and never
contains the API key.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    LLMError,
    RateLimitError,
    TokenLimitError,
)

# The same phrases the any-llm transport recognises: OpenAI and vLLM before 0.10
# ("maximum context length"), Anthropic-style proxies ("prompt is too long"), Ollama
# ("the input length exceeds the context length"), LM Studio ("context length of only",
# "Context size has been exceeded"), llama.cpp ("exceeds the available context size")
# and vLLM's V1 engine ("longer than the maximum model length").
TOKEN_LIMIT = re.compile(
    r"prompt is too long|context[_ ]length|context window|maximum context|"
    r"too many tokens|token limit|reduce the length|"
    r"exceeds? the available context size|context size has been exceeded|"
    r"longer than the maximum model length",
    re.IGNORECASE,
)
TOKEN_LIMIT_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "model_context_window_exceeded"}
)
SNIPPET = 200
"""Characters of an unexpected body quoted in the error message."""


def mask(text: str, key: str | None) -> str:
    """``text`` with ``key`` (and any long run of it) replaced by ``***``."""
    if key and len(key) >= 4 and key in text:
        text = text.replace(key, "***")
    return text


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (a number or an HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _error_fields(body: Any) -> tuple[str | None, set[str]]:
    """The provider's message and its ``code``/``type`` strings, wherever the body has them.

    OpenAI nests them (``{"error": {"message", "type", "code"}}``), vLLM before 0.10 puts
    them at the top level, LM Studio sends ``{"error": "text"}``.
    """
    if not isinstance(body, dict):
        return None, set()
    message: str | None = None
    codes: set[str] = set()
    for holder in (body.get("error"), body):
        if isinstance(holder, str) and holder.strip() and message is None:
            message = holder.strip()
        elif isinstance(holder, dict):
            text = holder.get("message")
            if isinstance(text, str) and text and message is None:
                message = text
            for name in ("code", "type"):
                value = holder.get(name)
                if isinstance(value, str):
                    codes.add(value.lower())
    return message, codes


def _kind(status: int | None, detail: str, codes: set[str]) -> type[LLMError]:
    """The error class for a status (None: an in-stream frame without one) and body."""
    if status == 429 or codes & {"rate_limit_exceeded", "rate_limit_error"}:
        return RateLimitError
    if status in (401, 403):
        return AuthenticationError
    client_side = status is None or 400 <= status < 500
    if client_side and (TOKEN_LIMIT.search(detail) or codes & TOKEN_LIMIT_CODES):
        return TokenLimitError
    if status == 408:
        return APITimeoutError
    if status is not None and 400 <= status < 500:
        return InvalidRequestError
    return APIConnectionError


_WHAT: dict[type[LLMError], str] = {
    RateLimitError: "rate limit hit",
    AuthenticationError: "rejected the credentials",
    TokenLimitError: "says the request exceeds the context window",
    APITimeoutError: "timed out the request",
    InvalidRequestError: "rejected the request",
    APIConnectionError: "failed",
}


def status_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    loads: Callable[[bytes], Any],
    *,
    provider: str,
    correlation_id: str,
    key: str | None,
) -> LLMError:
    """The error for an HTTP error answer (status 400 and up).

    Args:
        status: The HTTP status.
        headers: The response headers (case-insensitive).
        body: The response body.
        loads: The JSON decoder to use.
        provider: The provider, for the message.
        correlation_id: The call's correlation ID, for the message.
        key: The API key to mask in the message.
    """
    parsed: Any = None
    try:
        parsed = loads(body) if body else None
    except ValueError:
        parsed = None
    message, codes = _error_fields(parsed)
    if message is None:
        message = body[:SNIPPET].decode("utf-8", "replace").strip() or "(empty body)"
    detail = mask(message, key)
    kind = _kind(status, detail, codes)
    text = (
        f"{provider} {_WHAT[kind]}: {detail} (provider {provider}, HTTP {status}, "
        f"correlation ID {correlation_id})"
    )
    if kind is RateLimitError:
        return RateLimitError(text, retry_after=parse_retry_after(headers))
    if kind is AuthenticationError:
        return AuthenticationError(f"{text}. Check the API key.")
    return kind(text)


def stream_error_frame(
    payload: Any, *, provider: str, correlation_id: str, key: str | None
) -> LLMError | None:
    """The error an in-stream ``{"error": ...}`` frame reports, or None for a data frame."""
    if not isinstance(payload, dict) or "error" not in payload or "choices" in payload:
        return None
    message, codes = _error_fields(payload)
    detail = mask(message or "unknown error", key)
    error = payload.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and 400 <= code <= 599 else None
    kind = _kind(status, detail, codes)
    if kind in (InvalidRequestError, APITimeoutError) and status is None:
        kind = APIConnectionError
    return kind(
        f"The {provider} stream failed: {detail} (provider {provider}, correlation ID "
        f"{correlation_id})"
    )


def unexpected_body(
    status: int,
    content_type: str,
    body: bytes,
    *,
    provider: str,
    correlation_id: str,
    key: str | None,
) -> ConfigurationError:
    """The error for a 2xx answer that is not the API's JSON (an HTML page, a proxy's text).

    Not retried: the same URL serves the same page until someone fixes the setup.
    """
    snippet = mask(" ".join(body[:SNIPPET].decode("utf-8", "replace").split()), key)
    return ConfigurationError(
        f"{provider} did not answer as its API does: HTTP {status} with "
        f"{content_type or 'no content type'} ({len(body)} bytes: {snippet!r}). The base URL "
        "probably points at a web page or a proxy instead of the API: check base_url= (or "
        f"the provider's base-URL variable) (correlation ID {correlation_id})."
    )


def network_error(
    error: BaseException, *, provider: str, correlation_id: str
) -> APIConnectionError:
    """The error for a request that failed on the wire (refused, dropped, timed out)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    suffix = f" (provider {provider}, correlation ID {correlation_id})"
    reason = str(error) or type(error).__name__
    if isinstance(error, TimeoutError) or names & {"ServerTimeoutError", "SocketTimeoutError"}:
        return APITimeoutError(f"{provider} timed out: {type(error).__name__}: {reason}{suffix}")
    return APIConnectionError(
        f"{provider} connection failed: {type(error).__name__}: {reason}{suffix}"
    )


def incomplete_stream(provider: str, correlation_id: str, chunks: int) -> APIConnectionError:
    """A stream that ended before the model said why it stopped: retry-safe, never an answer."""
    return APIConnectionError(
        f"The {provider} stream ended before the answer did: no finish reason after "
        f"{chunks} chunk{'s' if chunks != 1 else ''} (the server or a proxy closed the "
        f"response early). The partial answer is not a result (correlation ID "
        f"{correlation_id})."
    )
