"""Logging helpers (the spec's ``gluellm.logging_utils``): decorators and timers.

Everything logs through loguru with the caller's module name, so GlueLLM's sinks (see
`gluellm.logging_config`) and the application's own configuration treat the records
like any other, correlation ID included.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from loguru import logger as _logger

from gluellm.logging_config import redact_secrets

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "get_logger",
    "log_async_function_call",
    "log_function_call",
    "log_operation",
    "log_timing",
]


def get_logger(name: str | None = None) -> Any:
    """A loguru logger whose records carry ``name`` (the spec's ``get_logger(__name__)``).

    Args:
        name: Shown as the record's ``logger`` extra; records keep the caller's module.
    """
    return _logger.bind(logger=name) if name else _logger


def _describe(value: Any, limit: int = 200) -> str:
    text = redact_secrets(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _arguments(function: Callable[..., Any], args: Any, kwargs: Any) -> str:
    try:
        bound = inspect.signature(function).bind_partial(*args, **kwargs)
    except TypeError:
        return ", ".join([*map(_describe, args), *(f"{k}={_describe(v)}" for k, v in kwargs)])
    return ", ".join(f"{k}={_describe(v)}" for k, v in bound.arguments.items())


def log_function_call(
    log_args: bool = False, log_result: bool = False, level: str = "DEBUG"
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function to log its calls, duration, and failures.

    Args:
        log_args: Include the arguments (reprs, secrets redacted, cut at 200 chars).
        log_result: Include the return value (same treatment).
        level: Level of the call and return lines; failures log at ERROR.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        name = function.__qualname__

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            log = _logger.opt(depth=1)
            log.log(
                level,
                "calling {}({})",
                name,
                _arguments(function, args, kwargs) if log_args else "...",
            )
            started = time.perf_counter()
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                log.error(
                    "{} raised {} after {:.3f}s: {}",
                    name,
                    type(error).__name__,
                    time.perf_counter() - started,
                    error,
                )
                raise
            elapsed = time.perf_counter() - started
            if log_result:
                log.log(level, "{} returned {} in {:.3f}s", name, _describe(result), elapsed)
            else:
                log.log(level, "{} returned in {:.3f}s", name, elapsed)
            return result

        return wrapper

    return decorate


def log_async_function_call(
    log_args: bool = False, log_result: bool = False, level: str = "DEBUG"
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """`log_function_call` for ``async def`` functions.

    Args:
        log_args: Include the arguments (reprs, secrets redacted, cut at 200 chars).
        log_result: Include the return value (same treatment).
        level: Level of the call and return lines; failures log at ERROR.
    """

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        name = function.__qualname__

        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            log = _logger.opt(depth=1)
            log.log(
                level,
                "calling {}({})",
                name,
                _arguments(function, args, kwargs) if log_args else "...",
            )
            started = time.perf_counter()
            try:
                result = await function(*args, **kwargs)
            except Exception as error:
                log.error(
                    "{} raised {} after {:.3f}s: {}",
                    name,
                    type(error).__name__,
                    time.perf_counter() - started,
                    error,
                )
                raise
            elapsed = time.perf_counter() - started
            if log_result:
                log.log(level, "{} returned {} in {:.3f}s", name, _describe(result), elapsed)
            else:
                log.log(level, "{} returned in {:.3f}s", name, elapsed)
            return result

        return wrapper

    return decorate


@contextlib.contextmanager
def log_timing(operation: str, level: str = "INFO") -> Iterator[None]:
    """Log how long the block took, as ``<operation> took 0.123s`` (``elapsed_s`` extra).

    Args:
        operation: What the block does.
        level: The line's level.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        _logger.opt(depth=2).bind(operation=operation, elapsed_s=round(elapsed, 6)).log(
            level, "{} took {:.3f}s", operation, elapsed
        )


@contextlib.contextmanager
def log_operation(operation: str, level: str = "INFO") -> Iterator[None]:
    """Log the start and the end (or the failure, at ERROR) of the block.

    Args:
        operation: What the block does.
        level: Level of the start and end lines.
    """
    log = _logger.opt(depth=2).bind(operation=operation)
    log.log(level, "{} started", operation)
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        log.bind(elapsed_s=round(time.perf_counter() - started, 6)).error(
            "{} failed after {:.3f}s: {}: {}",
            operation,
            time.perf_counter() - started,
            type(error).__name__,
            error,
        )
        raise
    log.bind(elapsed_s=round(time.perf_counter() - started, 6)).log(
        level, "{} finished in {:.3f}s", operation, time.perf_counter() - started
    )
