"""Classify any-llm's (and the provider SDKs') exceptions into GlueLLM's hierarchy.

any-llm's unified exceptions do most of the work; the HTTP status, when there is
one, decides where it is unambiguous, because a status is what the provider really
said while any-llm's class can come from a guess on the message text. Transport
failures (timeouts, refused or dropped connections, cut streams) are recognised by
walking the exception chain, whatever HTTP stack raised them.

Self-hosted servers (llama.cpp, vLLM, Ollama, LM Studio) report an over-long prompt as
a plain 400 in words of their own; the body decides that it is a `TokenLimitError`.

This module imports nothing from any-llm: classes are recognised by name, so a
classification never triggers the SDK import.
"""

from __future__ import annotations

import email.utils
import re
import time

from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    LLMError,
    RateLimitError,
    StreamCutError,
    TokenLimitError,
)
from gluellm_plugins_anyllm.redaction import chain as _chain
from gluellm_plugins_anyllm.redaction import redact
from gluellm_plugins_anyllm.wire_check import UnexpectedResponseError

__all__ = ["classify", "classify_stream_error", "incomplete_stream_error", "redact"]

# Anthropic reports an over-long prompt as a plain 400 invalid_request_error, and other
# providers word it their own way; these phrases all mean "the context window is full".
# OpenAI, vLLM before 0.10 ("maximum context length"), Ollama ("the input length exceeds
# the context length"), LM Studio ("loaded with context length of only ..."), llama.cpp
# ("request (N tokens) exceeds the available context size (M tokens)"), vLLM's V1
# engine ("The decoder prompt (length N) is longer than the maximum model length of M")
# and LM Studio's MLX engine ("Context size has been exceeded").
_TOKEN_LIMIT = re.compile(
    r"prompt is too long|context[_ ]length|context window|maximum context|"
    r"too many tokens|token limit|reduce the length|"
    r"exceeds? the available context size|context size has been exceeded|"
    r"longer than the maximum model length",
    re.IGNORECASE,
)

# Error codes and types in a body that say the same whatever the wording.
_TOKEN_LIMIT_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "model_context_window_exceeded"}
)

# Class names, anywhere in an exception's MRO, that mean the request or the response
# never completed on the wire. Names rather than classes so that httpx, httpx2,
# aiohttp and every provider SDK are covered without importing any of them.
_TIMEOUT_NAMES = frozenset(
    {"APITimeoutError", "TimeoutException", "ServerTimeoutError", "SocketTimeoutError"}
)
_CONNECTION_NAMES = frozenset(
    {
        "APIConnectionError",
        "TransportError",
        "NetworkError",
        "RemoteProtocolError",
        "ClientConnectionError",
        "ClientPayloadError",
        "ServerDisconnectedError",
        "IncompleteReadError",
    }
)


def _mro_names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _transport_failure(
    error: BaseException,
) -> tuple[type[APIConnectionError], BaseException] | None:
    """(APITimeoutError or APIConnectionError, the deciding cause) when the wire failed.

    The innermost recognised cause decides: the openai SDK's aiohttp adapter reports a
    dropped connection as a connect *timeout*, while the aiohttp error under it says
    what really happened.
    """
    found: tuple[type[APIConnectionError], BaseException] | None = None
    for link in _chain(error):
        names = _mro_names(link)
        if names & _TIMEOUT_NAMES or isinstance(link, TimeoutError):
            found = (APITimeoutError, link)
        elif names & _CONNECTION_NAMES or isinstance(link, ConnectionError | EOFError):
            found = (APIConnectionError, link)
    return found


def _status_of(error: BaseException) -> int | None:
    for name in ("status_code", "status"):
        value = getattr(error, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    response = getattr(error, "response", None)
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    return None


def _first_status(error: BaseException) -> int | None:
    for link in _chain(error):
        status = _status_of(link)
        if status is not None:
            return status
    return None


def _message(error: BaseException) -> str:
    text = getattr(error, "message", None)
    text = text if isinstance(text, str) and text else str(error)
    return text or type(error).__name__


def _body_message(error: BaseException) -> str | None:
    """The provider's own error message from the response body, wherever it sits.

    OpenAI-style bodies nest it (``{"error": {"message": ...}}``), vLLM before 0.10 puts
    it at the top, LM Studio sends ``{"error": "..."}``; the openai SDK's message then
    says only "Error code: 400", so the body is where the words are.
    """
    for link in _chain(error):
        body = getattr(link, "body", None)
        if isinstance(body, str) and body.strip():
            return body.strip()
        if not isinstance(body, dict):
            continue
        for holder in (body.get("error"), body):
            if isinstance(holder, str) and holder.strip():
                return holder.strip()
            if isinstance(holder, dict) and isinstance(holder.get("message"), str):
                return str(holder["message"])
    return None


def _detail(error: BaseException) -> str:
    """The error's message, with the body's message added when the SDK left it out."""
    text = _message(error)
    body = _body_message(error)
    if body and body not in text:
        text = f"{text} - {body}"
    return text


def _error_codes(error: BaseException) -> set[str]:
    """The ``code`` and ``type`` strings the provider's body (or any-llm) gave the error."""
    codes: set[str] = set()
    for link in _chain(error):
        holders: list[object] = [link]
        body = getattr(link, "body", None)
        if isinstance(body, dict):
            holders.append(body)
            if isinstance(body.get("error"), dict):
                holders.append(body["error"])
        for holder in holders:
            for name in ("code", "type", "error_type"):
                value = (
                    holder.get(name) if isinstance(holder, dict) else getattr(holder, name, None)
                )
                if isinstance(value, str):
                    codes.add(value.lower())
    return codes


def _is_token_limit(error: BaseException, detail: str) -> bool:
    return bool(_TOKEN_LIMIT.search(detail)) or bool(_error_codes(error) & _TOKEN_LIMIT_CODES)


def _unexpected_response(error: BaseException) -> UnexpectedResponseError | None:
    for link in _chain(error):
        if isinstance(link, UnexpectedResponseError):
            return link
    return None


def parse_retry_after(value: object) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: a number or an HTTP date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(float(value), 0.0)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _retry_after(error: BaseException) -> float | None:
    for link in _chain(error):
        seconds = parse_retry_after(getattr(link, "retry_after", None))
        if seconds is not None:
            return seconds
        for holder in (link, getattr(link, "response", None)):
            headers = getattr(holder, "headers", None)
            get = getattr(headers, "get", None)
            if callable(get):
                seconds = parse_retry_after(get("retry-after") or get("Retry-After"))
                if seconds is not None:
                    return seconds
    return None


def classify(
    error: BaseException, provider: str, correlation_id: str, secret: str | None = None
) -> LLMError:
    """The GlueLLM error a caller should see for ``error``; chain it with ``from error``.

    Args:
        error: What any-llm or the provider SDK raised.
        provider: The provider name, for the message.
        correlation_id: The call's correlation ID, for the message.
        secret: The API key used, masked wherever the message repeats it.

    Returns:
        A new `LLMError` (or ``error`` itself when it already is one).
    """
    if isinstance(error, LLMError):
        return error
    names = _mro_names(error)
    detail = redact(_detail(error), secret)
    suffix = f" (provider {provider}, correlation ID {correlation_id})"
    if "MissingApiKeyError" in names:
        return AuthenticationError(f"{detail}{suffix}")
    if "UnsupportedParameterError" in names:
        return InvalidRequestError(f"{detail}{suffix}")
    if isinstance(error, ImportError):
        return ConfigurationError(f"{detail}{suffix}")

    unexpected = _unexpected_response(error)
    if unexpected is not None:
        # Not retried: the same URL serves the same page until someone fixes the setup.
        return ConfigurationError(
            f"{provider} did not answer as its API does: {redact(str(unexpected), secret)}. "
            "The base URL probably points at a web page or a proxy's login page instead of "
            "the API: check base_url= (or the provider's base-URL variable, such as "
            f"OPENAI_BASE_URL) and any proxy in between{suffix}."
        )
    status = _first_status(error)
    if status is None:
        wire = _transport_failure(error)
        if wire is not None:
            kind, cause = wire
            what = "timed out" if kind is APITimeoutError else "connection failed"
            reason = _message(cause) if cause is not error else detail
            return kind(f"{provider} {what}: {type(cause).__name__}: {reason}{suffix}")
    return _by_status_or_class(status, names, error, detail, provider, suffix)


def _by_status_or_class(
    status: int | None,
    names: set[str],
    error: BaseException,
    detail: str,
    provider: str,
    suffix: str,
) -> LLMError:
    http = f" (HTTP {status})" if status is not None else ""
    if status == 429 or (status is None and "RateLimitError" in names):
        return RateLimitError(
            f"{provider} rate limit hit{http}: {detail}{suffix}",
            retry_after=_retry_after(error),
        )
    if status in (401, 403) or (status is None and "AuthenticationError" in names):
        return AuthenticationError(
            f"{provider} rejected the credentials{http}: {detail}{suffix}. Check the API key."
        )
    if "ContextLengthExceededError" in names or (
        (status is None or 400 <= status < 500) and _is_token_limit(error, detail)
    ):
        return TokenLimitError(
            f"{provider}: the request exceeds the context window: {detail}{suffix}"
        )
    if status == 408:
        return APITimeoutError(f"{provider} timed out the request{http}: {detail}{suffix}")
    if status is not None and 400 <= status < 500:
        return InvalidRequestError(f"{provider} rejected the request{http}: {detail}{suffix}")
    if status is not None and status >= 500:
        return APIConnectionError(f"{provider} failed{http}: {detail}{suffix}")
    if names & {
        "InvalidRequestError",
        "ModelNotFoundError",
        "ContentFilterError",
        "InsufficientFundsError",
    }:
        return InvalidRequestError(f"{provider} rejected the request: {detail}{suffix}")
    # ProviderError, gateway errors, and anything unrecognised: the provider side failed,
    # so a retry may help.
    return APIConnectionError(f"{provider} failed: {detail}{suffix}")


def classify_stream_error(
    error: BaseException, provider: str, correlation_id: str, secret: str | None = None
) -> LLMError:
    """Classify an error raised while a stream was being read.

    The provider accepted the request, so whatever breaks now is the connection or the
    provider side (a cut stream, a mid-stream ``overloaded_error``), unless the provider
    said otherwise with a status; either way it is never replayed by the transport.
    """
    classified = classify(error, provider, correlation_id, secret)
    if isinstance(classified, RateLimitError | APIConnectionError | AuthenticationError):
        return classified
    if _first_status(error) is not None or isinstance(classified, TokenLimitError):
        return classified
    return APIConnectionError(
        f"The {provider} stream broke: {_message(error)} (correlation ID {correlation_id})"
    )


def incomplete_stream_error(provider: str, correlation_id: str, chunks: int) -> StreamCutError:
    """The error for a stream that ended before the model said why it stopped.

    A connection error (`StreamCutError`): nothing says the answer was finished, so it
    must not pass for one, and asking again may well get the whole answer.
    """
    return StreamCutError(
        f"The {provider} stream ended before the answer did: no finish reason after "
        f"{chunks} chunk{'s' if chunks != 1 else ''} (the server or a proxy closed the "
        f"response early). The partial answer is not a result (correlation ID "
        f"{correlation_id})."
    )
