"""Refuse a successful HTTP answer that is not the API's: an HTML page where JSON was due.

A wrong base URL, a captive portal or a proxy's login page answers ``200 OK`` with a web
page. The provider SDKs then hand any-llm the page as a string, and the caller would see
"'str' object is not an async iterable" (or, for a stream, an empty answer). A response
hook on the SDK's HTTP client stops such an answer where it arrives and says what came.
"""

from __future__ import annotations

from typing import Any

_API_MEDIA_TYPES = ("json", "event-stream")
_API_BODY_STARTS = (b"{", b"[", b"data:", b"event:", b":")
_HEAD_BYTES = 120


class UnexpectedResponseError(Exception):
    """A 2xx answer whose body is not JSON or an event stream.

    Raised inside the SDK's HTTP client; the transport turns it into a
    `gluellm.errors.ConfigurationError` (a retry would get the same page).

    Attributes:
        status: The HTTP status.
        content_type: The ``Content-Type`` header as sent.
        head: The first bytes of the body.
        url: The request's URL without its query string.
    """

    def __init__(self, status: int, content_type: str, head: bytes, url: str) -> None:
        super().__init__(
            f"HTTP {status} from {url} with Content-Type {content_type or '(none)'!r}, "
            f"which is not the API's JSON or event stream; it begins {head!r}"
        )
        self.status = status
        self.content_type = content_type
        self.head = head
        self.url = url


async def check_response(response: Any) -> None:
    """Response hook: raise `UnexpectedResponseError` for a 2xx body that is not the API's.

    JSON and event streams pass untouched (a stream is not read here). Any other content
    type is read (pages are small) and passes only if it still looks like JSON or SSE,
    since some servers label their JSON ``text/plain``.
    """
    status = response.status_code
    if not 200 <= status < 300:
        return  # error bodies are the SDK's to report, whatever their format
    content_type = response.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if not media or any(kind in media for kind in _API_MEDIA_TYPES):
        return
    await response.aread()
    head = bytes(response.content[:_HEAD_BYTES]).lstrip()
    if not head or head.startswith(_API_BODY_STARTS):
        return
    request = response.request
    url = str(request.url.copy_with(query=None)) if request is not None else "?"
    raise UnexpectedResponseError(status, content_type, head, url)


def event_hooks() -> dict[str, list[Any]]:
    """``event_hooks=`` for an httpx(2) ``AsyncClient`` that checks every answer."""
    return {"response": [check_response]}
