"""The retry layer: stamina drives the attempts, GlueLLM's settings shape the waits.

Loaded on the first model call (see ``plugin.py``) because importing stamina imports
tenacity too.

Waits. After failed attempt ``n`` (1-based) the next attempt starts after::

    base = clamp(retry_multiplier * 2 ** (n - 1), retry_min_wait, retry_max_wait)
    wait = min(retry_max_wait, base + uniform(0, min(1 s, base)))

which is tenacity's ``wait_exponential`` (the schedule the original GlueLLM used) plus
up to a second of jitter, so clients that failed together do not retry together. A
429 that carries Retry-After waits ``max(retry_after, wait)``: never less than the
server asked. A server asking for more than `RETRY_AFTER_CAP_S` (or
``retry_max_wait`` when that is larger) is not retried at all: waiting that long
inside a call surprises more than it helps (it usually means a quota is spent), and
retrying sooner would only earn another 429. The caller gets the RateLimitError with
its ``retry_after`` to decide.

We compute every wait ourselves and hand it to stamina through its backoff hook (a
callable ``on=`` that returns the wait) because stamina has no multiplier, and because
``on_retry`` observers must be told the exact wait, jitter included. stamina still
owns the loop and the sleeping, so ``stamina.set_testing(...)`` turns every wait into
zero and ``stamina.set_active(False)`` turns retries off, as users of stamina expect.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import weakref
from typing import TYPE_CHECKING, Any

import attrs
import stamina
from loguru import logger

from gluellm.errors import RateLimitError, is_retryable
from gluellm.pipeline import notify_retry

if TYPE_CHECKING:
    from gluellm.call import CallHandler, ModelCall, ModelResponse
    from gluellm.config import Settings
    from gluellm.runtime import Runtime

# stamina reports retries to the stdlib logger "stamina" too. In an app that never
# configured logging, Python's last-resort handler would print a bare
# "stamina.retry_scheduled" line to stderr for each of our retries, next to our own
# loguru message. A NullHandler (the standard library-author courtesy) silences only
# that fallback; apps that configure logging still receive stamina's records.
logging.getLogger("stamina").addHandler(logging.NullHandler())

RETRY_AFTER_CAP_S = 60.0
"""Longest Retry-After honoured by waiting when ``retry_max_wait`` is shorter."""

JITTER_MAX_S = 1.0
"""Most random jitter added to a backoff; never more than the backoff itself."""


@attrs.frozen
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them.

    Attributes:
        max_attempts: Attempts in all, the first included (``GLUELLM_RETRY_MAX_ATTEMPTS``).
        min_wait: Shortest backoff in seconds (``GLUELLM_RETRY_MIN_WAIT``).
        max_wait: Longest backoff in seconds (``GLUELLM_RETRY_MAX_WAIT``).
        multiplier: Scale of the exponential backoff (``GLUELLM_RETRY_MULTIPLIER``).
    """

    max_attempts: int
    min_wait: float
    max_wait: float
    multiplier: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the ``retry_*`` settings describe."""
        return cls(
            max_attempts=settings.retry_max_attempts,
            min_wait=settings.retry_min_wait,
            # A max below the min would make every wait the max; the min is the floor
            # the user asked for, so it wins.
            max_wait=max(settings.retry_max_wait, settings.retry_min_wait),
            multiplier=settings.retry_multiplier,
        )

    @property
    def retry_after_cap(self) -> float:
        """The longest server-requested wait we sit out."""
        return max(self.max_wait, RETRY_AFTER_CAP_S)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based), jitter included."""
        try:
            base = self.multiplier * 2.0 ** (attempt - 1)
        except OverflowError:
            base = self.max_wait
        base = min(self.max_wait, max(self.min_wait, base))
        return min(self.max_wait, base + random.uniform(0.0, min(JITTER_MAX_S, base)))

    def wait_after(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before retrying ``error``, or None when it must not be retried.

        Args:
            error: What failed attempt ``attempt`` raised.
            attempt: The failed attempt's number (1 for the first).
        """
        if not is_retryable(error) or attempt >= self.max_attempts:
            return None
        wait = self.backoff(attempt)
        retry_after = _retry_after(error)
        if retry_after is not None:
            if retry_after > self.retry_after_cap:
                return None
            wait = max(wait, retry_after)
        return wait


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        return max(0.0, float(error.retry_after))
    return None


class Retrier:
    """The retry middleware for calls made under one runtime and policy.

    Args:
        runtime: Where the ``on_retry`` observers come from.
        policy: Attempts and waits.
    """

    __slots__ = ("_runtime", "policy")

    def __init__(self, runtime: Runtime, policy: RetryPolicy) -> None:
        # Weakly: the plugin reuses one Retrier per runtime from a module global, which
        # must not keep a discarded runtime (and its transports) alive.
        self._runtime = weakref.ref(runtime)
        self.policy = policy

    @property
    def runtime(self) -> Runtime:
        """The runtime whose ``on_retry`` observers hear of each retry."""
        runtime = self._runtime()
        if runtime is None:  # only a call made under that runtime gets here
            raise RuntimeError("the runtime this retrier was built for is gone")
        return runtime

    async def __call__(self, call: ModelCall, send: CallHandler) -> ModelResponse:
        """Send ``call``, retrying retryable failures.

        A streamed call is retried only while it is being opened: ``send`` returns once
        the provider accepted the request, and we hand the response (with its
        ``stream`` untouched) straight back, so chunks that already reached the caller
        are never replayed. Failures while reading the stream go to the reader.

        Raises:
            LLMError: The last attempt's error: when retries were made or a retryable
                error was given up on, a copy of it whose message says how many
                attempts were made, chained to the original.
        """
        try:
            # Fast path: the first attempt runs bare. Building stamina's (tenacity's)
            # retry state costs ~25 µs, more than the rest of the pipeline, and almost
            # every call succeeds at once; only a failure needs the machinery.
            return await send(call)
        except Exception as error:
            if not is_retryable(error):
                raise
            first_error = error
        run = _Run(self.runtime, self.policy, call)
        try:
            async for attempt in stamina.retry_context(
                on=run.decide,
                attempts=self.policy.max_attempts,
                # Each attempt is bounded by call.timeout in the pipeline; the attempt
                # count bounds the whole, so stamina's own 45 s total must not cut in.
                timeout=None,
            ):
                with attempt:
                    run.attempt = attempt.num
                    if attempt.num == 1:
                        # Replay the failure of the bare first attempt, so stamina
                        # counts it, decides on it and sleeps its backoff.
                        raise first_error
                    return await send(call)
        except Exception as error:
            final = run.final_error(error)
            if final is error:
                raise
            raise final from error
        raise AssertionError("stamina ended the retries without a result or an error")


@attrs.define
class _Run:
    """The state of one logical call's attempts."""

    runtime: Runtime
    policy: RetryPolicy
    call: ModelCall
    attempt: int = 0
    not_retried_because: str | None = None

    def decide(self, error: Exception) -> bool | float:
        """The backoff hook stamina calls on failure: False to stop, or seconds to wait."""
        wait = self.policy.wait_after(error, self.attempt)
        if wait is None:
            retry_after = _retry_after(error)
            if retry_after is not None and self.attempt < self.policy.max_attempts:
                self.not_retried_because = (
                    f"the server asked to wait {retry_after:g} s, longer than the "
                    f"{self.policy.retry_after_cap:g} s GlueLLM waits inside a call"
                )
            return False
        # stamina sleeps zero seconds in test mode; observers are told what happens.
        if stamina.is_testing():
            wait = 0.0
        self._announce(error, wait)
        return wait

    def _announce(self, error: Exception, wait: float) -> None:
        call = self.call
        logger.bind(correlation_id=call.correlation_id).warning(
            "Retrying {} (correlation ID {}): attempt {}/{} failed with {}: {}; "
            "next attempt in {:.2f} s",
            call.model,
            call.correlation_id,
            self.attempt,
            self.policy.max_attempts,
            type(error).__name__,
            error,
            wait,
        )
        notify_retry(self.runtime, call, self.attempt, error, wait)

    def final_error(self, error: Exception) -> Exception:
        """The error the caller receives once no attempt is left."""
        if not is_retryable(error) and self.attempt <= 1:
            # Not retryable and never retried: the error is the provider's verdict, as is.
            return error
        attempts = f"{self.attempt} attempt{'s' if self.attempt != 1 else ''}"
        detail = f"gave up after {attempts}"
        if self.not_retried_because:
            detail += f"; not retried because {self.not_retried_because}"
        logger.bind(correlation_id=self.call.correlation_id).warning(
            "{} (correlation ID {}): {} ({}: {})",
            self.call.model,
            self.call.correlation_id,
            detail,
            type(error).__name__,
            error,
        )
        return _with_message(error, f"{error} ({detail})", self.attempt)


def _with_message(error: Exception, message: str, attempts: int) -> Exception:
    """A copy of ``error`` (same class and attributes, e.g. retry_after) with ``message``.

    Copying keeps whatever a plugin's error subclass carries. When a class cannot be
    copied we fall back to the original error with the message as a note.
    """
    try:
        final = copy.copy(error)
        final.args = (message, *error.args[1:])
    except Exception:
        error.add_note(message)
        final = error
    # Recorders (eval records, traces) read the count without parsing the message.
    _set_attempts(final, attempts)
    return final


def _set_attempts(error: Any, attempts: int) -> None:
    # A class with __slots__ refuses new attributes: the message says it anyway.
    with contextlib.suppress(AttributeError):
        error.retry_attempts = attempts
