"""``gluellm test-rate-limiting``: show the sliding-window limit at work, in seconds.

With a limit of R requests per minute, R requests go through at once (burst R) and
the next one has to wait about 60/R seconds; the command shows both without waiting
a minute: it runs R completions under that limit, then asks the same limiter for one
more permit without waiting, which must be refused.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated

import typer

__all__ = ["add_commands"]

MAX_REQUESTS = 100
"""Most completions the command sends (a higher rate is checked with permits alone)."""


def add_commands(app: typer.Typer) -> None:
    """Add ``test-rate-limiting`` to ``app``."""
    app.command("test-rate-limiting")(rate_limiting_command)


def rate_limiting_command(
    rate: Annotated[
        int, typer.Option("--rate", "-r", min=1, help="Requests per minute to allow.")
    ] = 5,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
    ] = None,
) -> None:
    """Allow RATE requests per minute: RATE go through at once, the next one must wait."""
    import asyncio

    from gluellm.cli.common import CommandFailed, fail, offline_note, pick_model
    from gluellm.config import get_settings
    from gluellm.runtime import Runtime, use_runtime
    from gluellm_plugins_aiolimiter.api import get_rate_limiter

    sent = min(rate, MAX_REQUESTS)
    settings = get_settings().model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_requests_per_minute": rate,
            "rate_limit_burst": rate,
            "rate_limit_backend": "memory",
        }
    )

    async def run() -> None:
        from gluellm.api import complete

        runtime = Runtime(settings=settings)
        with use_runtime(runtime):
            try:
                chosen = pick_model(runtime, model)
                typer.echo(f"Rate limit {rate}/min on {chosen}{offline_note(chosen)}")
                started = time.perf_counter()
                await asyncio.gather(
                    *(complete(f"Request {i}: say ok.", model=chosen) for i in range(sent))
                )
                elapsed = time.perf_counter() - started
                typer.echo(f"  {sent} concurrent request(s) admitted in {elapsed:.2f} s (burst)")
                limiter = get_rate_limiter(
                    key=f"cli-check-{uuid.uuid4().hex}",
                    requests_per_minute=rate,
                    burst=rate,
                    backend="memory",
                )
                granted = [await limiter.try_acquire() for _ in range(rate)]
                if not all(granted):
                    raise CommandFailed(f"only {sum(granted)} of {rate} permits were free at once")
                if await limiter.try_acquire():
                    raise CommandFailed(f"permit {rate + 1} within one minute was granted")
                typer.echo(
                    f"  permits 1-{rate} granted at once; permit {rate + 1} refused: it would "
                    f"wait about {60 / rate:.1f} s (never more than {rate} in any 60 s)"
                )
            finally:
                await runtime.aclose()

    try:
        asyncio.run(run())
    except Exception as error:  # every failure: one line, exit code 1
        raise fail(error) from error
