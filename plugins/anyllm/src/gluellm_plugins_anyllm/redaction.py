"""Keep API keys out of what callers and loggers print.

Some providers and gateways repeat the key they rejected in their error body. GlueLLM's
own messages mask it, but the caller's error also chains the provider SDK's exceptions
(``__cause__``), and ``traceback.format_exception`` or a logger prints every one of
them; loguru, by default, also prints the value of each variable on every line of the
traceback. So the key is masked inside the chained exceptions too, and the transport
keeps it in an `Endpoint`, whose repr never shows it, rather than in a plain variable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import attrs

_MIN_SECRET = 8  # shorter "keys" ("none", "sk-test") are placeholders, and too common to mask


def _masked(secret: str) -> str:
    return f"{secret[:4]}…redacted"


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` masked to its first four characters."""
    if not secret or len(secret) < _MIN_SECRET or secret not in text:
        return text
    return text.replace(secret, _masked(secret))


def _redact_value(value: Any, secret: str, depth: int = 0) -> Any:
    """``value`` (text, bytes, or JSON-like containers of them) with ``secret`` masked."""
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, bytes):
        raw = secret.encode()
        return value.replace(raw, _masked(secret).encode()) if raw in value else value
    if depth > 8:  # error bodies are shallow; a deep structure is not worth the walk
        return value
    if isinstance(value, dict):
        return {k: _redact_value(v, secret, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, secret, depth + 1) for v in value)
    return value


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, what any-llm wrapped (``original_exception``), and its causes; each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        original = getattr(current, "original_exception", None)
        pending.extend(
            [original if isinstance(original, BaseException) else None, current.__cause__]
        )
        if not current.__suppress_context__:
            pending.append(current.__context__)


# Attributes the SDKs' exceptions print from (str, repr) or that loggers show.
_TEXT_ATTRIBUTES = ("message", "body", "__notes__")


def scrub(error: BaseException, secret: str | None) -> None:
    """Mask ``secret`` in ``error`` and every exception chained to it, in place.

    Covers what ``str()``, ``repr()`` and tracebacks print (``args``, ``message``,
    ``body``, notes), for the provider SDK's exceptions and any-llm's alike.
    """
    if not secret or len(secret) < _MIN_SECRET:
        return
    for link in chain(error):
        # An exception type may forbid setting these; then there is nothing to mask.
        with contextlib.suppress(AttributeError, TypeError):
            link.args = tuple(_redact_value(arg, secret) for arg in link.args)
        for name in _TEXT_ATTRIBUTES:
            value = getattr(link, name, None)
            if value is None:
                continue
            with contextlib.suppress(AttributeError, TypeError):
                setattr(link, name, _redact_value(value, secret))


@attrs.frozen(kw_only=True)
class Endpoint:
    """Where one call goes and with which key; the key never appears in its repr.

    Attributes:
        key: The API key, or None when the provider needs none.
        base_url: The base URL, or None for the SDK's default.
    """

    key: str | None = attrs.field(repr=False)
    base_url: str | None
