"""GlueLLM's logging, on loguru: a rotating file, an optional console, stdlib bridging.

GlueLLM is a library, so its logging stays out of the application's way:

- Nothing is configured at import. A runtime's first call configures the defaults
  (unless ``GLUELLM_DISABLE_LOGGING`` is true): GlueLLM's records go to a rotating file
  (``GLUELLM_LOG_DIR``/``GLUELLM_LOG_FILE_NAME``, opened on the first record, so no
  file appears before there is something to write) and to the standard ``logging``
  module, under their module names, for applications that use it. Nothing goes to
  stderr unless ``console_output=True``: loguru's own default stderr handler, if the
  application left it in place, is swapped for an identical one that skips GlueLLM's
  records (the application's own records still print as before).
- ``GLUELLM_DISABLE_LOGGING=true``: GlueLLM adds no sink and touches no handler; its
  records go wherever the application's loguru configuration sends them.
- Every line carries the correlation ID of the call it belongs to, and no line carries
  a secret: values that look like API keys are redacted, and tracebacks never show
  local variables (``diagnose=False``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import re
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from gluellm.correlation import get_correlation_id

if TYPE_CHECKING:
    from loguru import Message, Record

    from gluellm.config import Settings

__all__ = [
    "configure_default_logging",
    "is_gluellm_record",
    "logging_configured",
    "redact_secrets",
    "reset_logging",
    "setup_logging",
]

TEXT_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} | "
    "cid={extra[correlation_id]} | {extra[_gluellm_message]}"
)
"""The text line format of GlueLLM's sinks."""

REDACTED = "[REDACTED]"

_SECRET_PATTERNS = [
    # Provider key shapes: OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), xAI, Google, ...
    (re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bxai-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), REDACTED),
    (re.compile(r"\b(?:ghp|gho|github_pat|hf|glpat)_[A-Za-z0-9_]{10,}"), REDACTED),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    # "Bearer <token>", "api_key=<value>", "x-api-key: <value>", "password": "<value>"
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9_\-.=:+/]{8,}"), r"\1" + REDACTED),
    (
        re.compile(
            r"(?i)((?:api[_-]?key|apikey|token|secret|password|authorization)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{6,}"
        ),
        r"\1" + REDACTED,
    ),
]


def redact_secrets(text: str) -> str:
    """``text`` with every value that looks like an API key or token replaced."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_gluellm_record(record: Record) -> bool:
    """Whether a loguru record comes from GlueLLM or one of its first-party plugins."""
    name = record["name"] or ""
    return name == "gluellm" or name.startswith(("gluellm.", "gluellm_plugins_"))


def _prepare(record: Record) -> None:
    """Add the correlation ID and the redacted message (and traceback) to a record."""
    extra = record["extra"]
    if "_gluellm_message" in extra:
        return
    if not extra.get("correlation_id"):
        extra["correlation_id"] = get_correlation_id() or "-"
    message = redact_secrets(record["message"])
    exception = record["exception"]
    if exception is not None and exception.type is not None:
        text = "".join(traceback.format_exception(exception.type, exception.value, None))
        extra["_gluellm_exception"] = redact_secrets(text.rstrip())
        message = f"{message}\n{extra['_gluellm_exception']}"
    extra["_gluellm_message"] = message


def _gluellm_filter(record: Record) -> bool:
    if not is_gluellm_record(record):
        return False
    _prepare(record)
    return True


def _text_format(record: Record) -> str:
    return TEXT_FORMAT + "\n"


def _json_format(record: Record) -> str:
    """One JSON object per line: the spec's fields, the correlation ID, bound extras."""
    extra = record["extra"]
    line: dict[str, Any] = {
        "asctime": record["time"].strftime("%Y-%m-%d %H:%M:%S"),
        "timestamp": record["time"].isoformat(),
        "name": record["name"],
        "levelname": record["level"].name,
        "message": redact_secrets(record["message"]),
        "correlation_id": extra.get("correlation_id"),
        "module": record["module"],
        "function": record["function"],
        "line": record["line"],
    }
    for key, value in extra.items():
        if not key.startswith("_gluellm") and key not in line:
            line[key] = value
    if "_gluellm_exception" in extra:
        line["exception"] = extra["_gluellm_exception"]
    text = redact_secrets(json.dumps(line, default=str))
    extra["_gluellm_json"] = text
    return "{extra[_gluellm_json]}\n"


class _MessageOnly(logging.Formatter):
    """Writes what loguru formatted, and nothing else (no second traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


def _file_handler(path: Path, max_bytes: int, backup_count: int) -> logging.Handler:
    """Size-rotated file, ``name.log.1`` ... ``name.log.N``; opened on the first record."""
    handler = _LazyDirRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
    )
    handler.terminator = ""
    handler.setFormatter(_MessageOnly())
    return handler


class _LazyDirRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that creates its directory on the first record too.

    With ``backupCount=0`` the stdlib handler never rotates; here the file is then
    truncated when it reaches ``maxBytes``, so the size limit always holds.
    """

    def _open(self) -> Any:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Roll over before a record would take the file past ``maxBytes``."""
        if self.maxBytes <= 0:
            return False
        if self.stream is None:  # delay=True: the first record opens the file
            self.stream = self._open()
        self.stream.seek(0, 2)
        position = self.stream.tell()
        size = len(self.format(record).encode(self.encoding or "utf-8"))
        return position > 0 and position + size > self.maxBytes

    def doRollover(self) -> None:
        """Shift the backups; with no backups kept, start the file afresh."""
        if self.backupCount > 0:
            super().doRollover()
            return
        if self.stream:
            self.stream.close()
        self.mode = "w"
        try:
            self.stream = self._open()
        finally:
            self.mode = "a"


def _to_stdlib(message: Message) -> None:
    """Forward a GlueLLM record to the standard ``logging`` logger of its module."""
    record = message.record
    name = record["name"] or "gluellm"
    target = logging.getLogger(name)
    level = record["level"].no
    if not target.isEnabledFor(level):
        return
    extra = record["extra"]
    target.log(
        level,
        extra.get("_gluellm_message", redact_secrets(record["message"])),
        extra={"correlation_id": extra.get("correlation_id")},
        stacklevel=1,
    )


class _Stderr:
    """``sys.stderr`` as it is when a record is written (pytest and apps swap it)."""

    def write(self, text: str) -> None:
        sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())


_lock = threading.RLock()
_handler_ids: list[int] = []
_replaced_default: int | None = None
# loguru's default stderr handler: id 0, or the one reset_logging() put back.
_default_id = 0
_configured = False
_defaults_applied = False
_null_handled: set[str] = set()


def _quiet_stdlib(name: str) -> None:
    """Give a top-level stdlib logger a NullHandler: no "last resort" stderr output."""
    if name not in _null_handled:
        _null_handled.add(name)
        stdlib = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in stdlib.handlers):
            stdlib.addHandler(logging.NullHandler())


def _swap_loguru_default() -> None:
    """Replace loguru's default stderr handler (id 0), if present, by one without GlueLLM."""
    global _replaced_default, _default_id
    try:
        logger.remove(_default_id)
    except ValueError:
        return  # the application configured loguru itself: leave its handlers alone
    from loguru import _defaults

    _replaced_default = logger.add(
        _Stderr(),
        level=_defaults.LOGURU_LEVEL,
        format=_defaults.LOGURU_FORMAT,
        filter=lambda record: not is_gluellm_record(record),
        colorize=None,
        diagnose=_defaults.LOGURU_DIAGNOSE,
        backtrace=_defaults.LOGURU_BACKTRACE,
    )


def setup_logging(
    log_level: str | None = None,
    log_file_level: str | None = None,
    log_dir: str | Path | None = None,
    log_file_name: str | None = None,
    log_json_format: bool | None = None,
    log_max_bytes: int | None = None,
    log_backup_count: int | None = None,
    console_output: bool = False,
    force: bool = False,
    settings: Settings | None = None,
) -> None:
    """Send GlueLLM's log records to a rotating file (and the console, if asked).

    Arguments left as None come from the settings (``GLUELLM_LOG_*``). Calling it
    again does nothing unless ``force``, which replaces GlueLLM's sinks.

    Args:
        log_level: Console level (``GLUELLM_LOG_LEVEL``).
        log_file_level: File level (``GLUELLM_LOG_FILE_LEVEL``).
        log_dir: Directory of the log file (``GLUELLM_LOG_DIR``); created on the first
            record.
        log_file_name: The file's name (``GLUELLM_LOG_FILE_NAME``).
        log_json_format: One JSON object per line (``GLUELLM_LOG_JSON_FORMAT``).
        log_max_bytes: Size at which the file rotates (``GLUELLM_LOG_MAX_BYTES``).
        log_backup_count: Rotated files kept: ``name.log.1`` (newest) ...
            ``name.log.N`` (``GLUELLM_LOG_BACKUP_COUNT``).
        console_output: Also write GlueLLM's records to stderr, at ``log_level``.
        force: Reconfigure even if GlueLLM's logging was configured before.
        settings: Settings to read instead of the current ones.
    """
    global _configured
    if settings is None:
        from gluellm.config import get_settings

        settings = get_settings()
    with _lock:
        if _configured and not force:
            return
        _remove_sinks()
        level = (log_level or settings.log_level).upper()
        file_level = (log_file_level or settings.log_file_level).upper()
        directory = Path(log_dir if log_dir is not None else settings.log_dir)
        name = log_file_name or settings.log_file_name
        as_json = settings.log_json_format if log_json_format is None else log_json_format
        max_bytes = settings.log_max_bytes if log_max_bytes is None else log_max_bytes
        backups = settings.log_backup_count if log_backup_count is None else log_backup_count
        line_format = _json_format if as_json else _text_format

        _swap_loguru_default()
        _handler_ids.append(
            logger.add(
                _file_handler(directory / name, max_bytes, backups),
                level=file_level,
                format=line_format,
                filter=_gluellm_filter,
                colorize=False,
                diagnose=False,
                backtrace=False,
                catch=True,
            )
        )
        if console_output:
            _handler_ids.append(
                logger.add(
                    _Stderr(),
                    level=level,
                    format=line_format,
                    filter=_gluellm_filter,
                    colorize=False,
                    diagnose=False,
                    backtrace=False,
                )
            )
        for top in ("gluellm", "gluellm_plugins"):
            _quiet_stdlib(top)
        _handler_ids.append(
            logger.add(
                _to_stdlib,
                level=0,
                format="{message}",
                filter=_stdlib_filter,
                diagnose=False,
                backtrace=False,
                catch=True,
            )
        )
        _configured = True


def _stdlib_filter(record: Record) -> bool:
    if not _gluellm_filter(record):
        return False
    name = (record["name"] or "").split(".", 1)[0]
    if name != "gluellm":
        _quiet_stdlib(name)
    return True


def _remove_sinks() -> None:
    while _handler_ids:
        handler_id = _handler_ids.pop()
        with contextlib.suppress(ValueError):  # the application removed it already
            logger.remove(handler_id)


def reset_logging() -> None:
    """Remove GlueLLM's sinks and give loguru its default stderr handler back."""
    global _configured, _replaced_default, _default_id
    with _lock:
        _remove_sinks()
        if _replaced_default is not None:
            try:
                logger.remove(_replaced_default)
            except ValueError:
                pass
            else:
                _default_id = logger.add(_Stderr())
            _replaced_default = None
        _configured = False


def logging_configured() -> bool:
    """Whether GlueLLM's sinks are installed."""
    return _configured


def configure_default_logging(settings: Settings) -> None:
    """Apply the default configuration once per process (a runtime's first call).

    Does nothing when ``GLUELLM_DISABLE_LOGGING`` is true, when the application called
    `setup_logging` already, or when it ran before.
    """
    global _defaults_applied
    if _defaults_applied:
        return
    _defaults_applied = True
    if settings.disable_logging or _configured:
        return
    setup_logging(settings=settings)
