"""Build an `EvalRecord` from a finished run, as JSON-safe data with secrets removed.

Records are built in the store's writer, off the caller's path: the run hands over a
`PendingRecord` (the run and how it ended), and the writer calls it.

Secrets never reach a record: values under keys such as ``api_key`` or
``Authorization`` are replaced wherever they appear (``raw_response`` included);
``Bearer ...`` tokens and provider key shapes (``sk-...``, ``xai-...``) are masked in
every text; and the exact API keys the run used (collected from its model calls), the
runtime's configured keys and the providers' key variables (`SECRET_ENV_VARS`) are
masked in every text, error messages included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from gluellm.models.eval import EvalRecord
    from gluellm.runs import RunEnd, RunRequest

REDACTED = "[REDACTED]"
SECRETS_KEY = "gluellm_eval.secrets"
"""``run.extensions`` key under which the plugin collects the keys a run's calls used."""

_SECRET_KEYS = frozenset(
    {
        "apikey",
        "api_key",
        "x_api_key",
        "api_token",
        "access_token",
        "refresh_token",
        "authorization",
        "proxy_authorization",
        "client_secret",
        "secret",
        "password",
        "cookie",
        "set_cookie",
    }
)
SECRET_ENV_VARS = (
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "XAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "HF_TOKEN",
)
"""Provider key variables whose values are masked in every record (looked up by name:
scanning the whole environment per record cost more than building the record). The
``GLUELLM_*_API_KEY`` settings are masked through the runtime's settings."""
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Key shapes that are masked even when GlueLLM never saw the key (OpenAI / Anthropic
# sk-..., xAI): long enough that ordinary words never match.
_KEY_SHAPES = re.compile(r"\b(?:sk|rk)-[A-Za-z0-9_\-]{16,}|\bxai-[A-Za-z0-9_\-]{16,}")
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_MAX_DEPTH = 30
MAX_ITEMS = 1000
"""Items of a list kept in a record; the rest are counted, not stored."""


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``api_key``, ``Authorization`` ...)."""
    normal = key.lower().replace("-", "_")
    return normal in _SECRET_KEYS or normal.endswith("_api_key")


def secrets_of(run: RunRequest) -> list[str]:
    """The secret values to mask in ``run``'s record, longest first."""
    found: set[str] = set(run.extensions.get(SECRETS_KEY, ()))
    settings = run.runtime.settings
    for name in ("openai_api_key", "anthropic_api_key", "xai_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            found.add(value.get_secret_value())
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name)
        if value:
            found.add(value)
    return sorted((s for s in found if len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


class Scrubber:
    """Turns any value into JSON-safe data with secrets masked.

    Args:
        secrets: Exact values to mask in every text.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if s]

    def text(self, value: str) -> str:
        """``value`` with secrets and bearer tokens masked."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        if "earer" in value or "EARER" in value:
            value = _BEARER.sub(rf"\1 {REDACTED}", value)
        if "-" in value:
            value = _KEY_SHAPES.sub(REDACTED, value)
        return value

    def data(self, value: Any, depth: int = 0) -> Any:
        """``value`` as JSON-safe data (dicts, lists, texts, numbers), secrets masked."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if depth > _MAX_DEPTH:
            return "..."
        if isinstance(value, Mapping):
            return {
                str(k): REDACTED if is_secret_key(str(k)) else self.data(v, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            items = list(value)
            kept = [self.data(v, depth + 1) for v in items[:MAX_ITEMS]]
            if len(items) > MAX_ITEMS:
                # A batch's result may hold 100,000 answers, each recorded on its own:
                # the group's record keeps the first ones and says how many it left out.
                kept.append(f"... {len(items) - MAX_ITEMS} more items not recorded")
            return kept
        return self.data(_plain(value), depth + 1)


def _plain(value: Any) -> Any:
    """A plain (dict, list, text) form of an object, without secrets' help."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, type):
        return value.__qualname__
    dump = getattr(value, "model_dump", None)  # pydantic (and the openai SDK's types)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            return dump()
    if attrs.has(type(value)):
        return attrs.asdict(value, recurse=False)
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if hasattr(value, "__dict__") and not callable(value):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return repr(value)


def _status_of(error: BaseException | None) -> str:
    import asyncio

    if error is None:
        return "ok"
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    return "error"


def build_record(run: RunRequest, end: RunEnd) -> EvalRecord:
    """The `EvalRecord` of a finished run, secrets masked.

    Args:
        run: The run.
        end: How it ended.
    """
    from gluellm.embeddings import EmbeddingResult
    from gluellm.models.eval import EvalRecord
    from gluellm.results import ToolExecutionResult

    scrub = Scrubber(secrets_of(run))
    output = end.output
    error = end.error
    # A failed run may still carry what it did (MaxToolIterationsError, budget errors).
    result = output if isinstance(output, ToolExecutionResult) else None
    if result is None and isinstance(getattr(error, "result", None), ToolExecutionResult):
        result = error.result  # type: ignore[union-attr]
    metadata: dict[str, Any] = dict(run.metadata)
    parent = run.parent
    if parent is not None:
        # A step ties back to its group by ID; the group's name and data say what it was.
        metadata.setdefault("parent_operation", parent.operation)
        if parent.name is not None:
            metadata.setdefault("parent_name", parent.name)
        if parent.metadata:
            metadata.setdefault("parent_metadata", dict(parent.metadata))
    if run.input:
        metadata.setdefault("input", list(run.input))
    if run.options:
        metadata.setdefault("options", dict(run.options))
    final_response: str | None = None
    structured: Any = None
    if result is not None:
        final_response = result.final_response
        structured = result.structured_output
    elif isinstance(output, EmbeddingResult):
        metadata.setdefault("embedding_count", output.count)
        metadata.setdefault("embedding_dimension", output.dimension)
    elif output is not None:
        # A group's (workflow, batch) result: kept whole, its text as the response.
        text = getattr(output, "final_response", None) or getattr(output, "final_output", None)
        final_response = text if isinstance(text, str) else None
        structured = output
    tokens = end.usage.as_dict() if end.usage is not None else None
    if tokens is None and result is not None:
        tokens = result.tokens_used
    return EvalRecord(
        correlation_id=run.correlation_id,
        timestamp=dt.datetime.fromtimestamp(run.started_at, dt.UTC),
        user_message=scrub.data(run.user_message),
        system_prompt=scrub.data(run.system_prompt),
        model=(result.model if result is not None and result.model else None) or run.model,
        messages_snapshot=scrub.data(list(run.messages)),
        final_response=scrub.data(final_response),
        structured_output=scrub.data(structured),
        raw_response=scrub.data(result.raw_response) if result is not None else None,
        tool_calls_made=result.tool_calls_made if result is not None else run.stats.tool_calls,
        tool_execution_history=scrub.data(result.tool_execution_history) if result else [],
        tools_available=list(run.tools),
        latency_ms=end.duration_s * 1000.0,
        tokens_used=tokens,
        estimated_cost_usd=end.estimated_cost_usd,
        success=end.status == "ok",
        error_type=type(error).__name__ if error is not None else None,
        error_message=scrub.text(str(error)) if error is not None else None,
        operation=run.operation,
        run_id=run.run_id,
        parent_run_id=parent.run_id if parent is not None else None,
        root_run_id=run.root.run_id,
        name=run.name,
        status=end.status,
        retry_attempts=run.stats.retries,
        model_calls=run.stats.model_calls,
        metadata=scrub.data(metadata),
    )


@attrs.frozen
class PendingRecord:
    """A finished run whose record is built when a store's writer asks for it.

    Attributes:
        run: The run.
        end: How it ended.
    """

    run: RunRequest
    end: RunEnd

    @property
    def correlation_id(self) -> str:
        """The run's correlation ID (for log lines about this record)."""
        return self.run.correlation_id

    def __call__(self) -> EvalRecord:
        """Build the record."""
        return build_record(self.run, self.end)


def end_now(run: RunRequest, output: Any, error: BaseException | None, started: float) -> RunEnd:
    """How ``run`` ends now, given its output or error (for the run middleware).

    Args:
        run: The run.
        output: What it returned (None on error).
        error: What it raised, or None.
        started: ``time.perf_counter()`` at its start.
    """
    from gluellm.runs import end_of

    return end_of(run, _status_of(error), output, error, started)  # type: ignore[arg-type]
