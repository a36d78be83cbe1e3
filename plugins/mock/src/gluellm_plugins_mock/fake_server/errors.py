"""The providers' real error bodies and headers, so their SDKs classify them as in production.

OpenAI answers ``{"error": {"message", "type", "param", "code"}}`` with ``x-request-id``;
Anthropic answers ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with
``request-id``. Both send ``retry-after`` (seconds) on 429; OpenAI adds ``retry-after-ms``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gluellm_plugins_mock.fake_server.steps import ContextServer, StatusFault

# status -> (message, type, code) as OpenAI sends them.
_OPENAI: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: (
        "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: (
        "The model `fake-model` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    429: (
        "Rate limit reached for fake-model in organization org-fake on requests per min "
        "(RPM): Limit 3, Used 3, Requested 1. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}

_OPENAI_CONTEXT = (
    "This model's maximum context length is 128000 tokens. However, your messages resulted "
    "in 130000 tokens. Please reduce the length of the messages."
)

# status -> (type, message) as Anthropic sends them.
_ANTHROPIC: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "model: fake-model"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests "
        "per minute. Please try again later.",
    ),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}

_ANTHROPIC_CONTEXT = "prompt is too long: 208310 tokens > 200000 maximum"

# Self-hosted OpenAI-compatible servers answer an over-long prompt with a plain 400 and
# a body of their own; these are their real shapes and wordings (collected from their
# sources and bug reports), for a 19417-token prompt against a 2048-token window.
_SELF_HOSTED_CONTEXT: dict[ContextServer, dict[str, Any]] = {
    # llama.cpp's server since 2025: its own error type and the two counts.
    "llamacpp": {
        "error": {
            "code": 400,
            "message": "request (19417 tokens) exceeds the available context size "
            "(2048 tokens), try increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 19417,
            "n_ctx": 2048,
        }
    },
    # Older llama.cpp builds: no counts, a generic type.
    "llamacpp-legacy": {
        "error": {
            "code": 400,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "invalid_request_error",
        }
    },
    # vLLM's V1 engine, rejecting the prompt while preparing it.
    "vllm": {
        "error": {
            "message": "The decoder prompt (length 19417) is longer than the maximum model "
            "length of 2048. Make sure that `max_model_len` is no smaller than the number "
            "of text tokens.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    },
    # vLLM before 0.10: the error object at the top level, OpenAI's old wording.
    "vllm-legacy": {
        "object": "error",
        "message": "This model's maximum context length is 2048 tokens. However, you requested "
        "19673 tokens (19417 in the messages, 256 in the completion). Please reduce the "
        "length of the messages or completion.",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    },
    # Ollama's OpenAI-compatible endpoint (/v1) with truncation off, and its embeddings.
    "ollama": {
        "error": {
            "message": "the input length exceeds the context length",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    },
    # LM Studio (llama.cpp engine): the error is a bare string.
    "lmstudio": {
        "error": "Trying to keep the first 19417 tokens when context the overflows. However, "
        "the model is loaded with context length of only 2048 tokens, which is not enough. "
        "Try to load the model with a larger context length, or provide a shorter input"
    },
    # LM Studio's MLX engine.
    "lmstudio-mlx": {"error": "Context size has been exceeded."},
}


def _seconds_text(seconds: float) -> str:
    # Real providers send whole seconds; keep fractions so short test waits stay short.
    return f"{seconds:g}"


def self_hosted_context_error(server: ContextServer, message: str | None = None) -> dict[str, Any]:
    """The body ``server`` sends for a prompt longer than its context window.

    Args:
        server: Which self-hosted server (see ``CONTEXT_SERVERS``).
        message: Replaces the server's wording, keeping its body's shape.
    """
    body = copy.deepcopy(_SELF_HOSTED_CONTEXT[server])
    if message is not None:
        error = body.get("error")
        if isinstance(error, dict):
            error["message"] = message
        elif isinstance(error, str):
            body["error"] = message
        else:
            body["message"] = message
    return body


def openai_error(fault: StatusFault, request_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers OpenAI sends for ``fault``."""
    if fault.context_window and fault.server is not None:
        # These servers speak only the OpenAI format and send no request ID.
        return self_hosted_context_error(fault.server, fault.message), {}
    if fault.context_window:
        error: dict[str, Any] = {
            "message": fault.message or _OPENAI_CONTEXT,
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    else:
        default_type = "server_error" if fault.http_status >= 500 else "invalid_request_error"
        message, kind, code = _OPENAI.get(
            fault.http_status, (f"HTTP {fault.http_status}", default_type, None)
        )
        error = {"message": fault.message or message, "type": kind, "param": None, "code": code}
    headers = {"x-request-id": request_id}
    if fault.retry_after is not None:
        headers["retry-after"] = _seconds_text(fault.retry_after)
        headers["retry-after-ms"] = str(round(fault.retry_after * 1000))
    if fault.http_status == 429:
        headers["x-ratelimit-limit-requests"] = "3"
        headers["x-ratelimit-remaining-requests"] = "0"
    return {"error": error}, headers


def anthropic_error(fault: StatusFault, request_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers Anthropic sends for ``fault``."""
    if fault.context_window and fault.server is not None:
        return self_hosted_context_error(fault.server, fault.message), {}
    if fault.context_window:
        kind, message = "invalid_request_error", _ANTHROPIC_CONTEXT
    else:
        default_type = "api_error" if fault.http_status >= 500 else "invalid_request_error"
        kind, message = _ANTHROPIC.get(
            fault.http_status, (default_type, f"HTTP {fault.http_status}")
        )
    body = {
        "type": "error",
        "error": {"type": kind, "message": fault.message or message},
        "request_id": request_id,
    }
    headers = {"request-id": request_id}
    if fault.retry_after is not None:
        headers["retry-after"] = _seconds_text(fault.retry_after)
    if fault.http_status == 429:
        headers["anthropic-ratelimit-requests-limit"] = "50"
        headers["anthropic-ratelimit-requests-remaining"] = "0"
    return body, headers


def openai_stream_error(fault: StatusFault) -> bytes:
    """The SSE frame OpenAI sends when a stream fails after it started."""
    body, _ = openai_error(fault, "")
    return f"data: {json.dumps(body)}\n\n".encode()


def anthropic_stream_error(fault: StatusFault) -> bytes:
    """The ``error`` event Anthropic sends when a stream fails after it started."""
    body, _ = anthropic_error(fault, "")
    del body["request_id"]  # in-stream errors carry only type and error
    return f"event: error\ndata: {json.dumps(body)}\n\n".encode()
