"""The batch commands: ``gluellm batch``, ``test-batch-processing``, ``test-api-key-pool``.

Added through the ``register_commands`` hook; imported only when the CLI starts.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from gluellm.call import ModelCall, ModelResponse, Transport
    from gluellm.runtime import Runtime


def add_commands(app: typer.Typer) -> None:
    """Register the batch commands on ``app``."""
    app.command("batch")(batch_command)
    app.command("test-batch-processing")(batch_processing_demo)
    app.command("test-api-key-pool")(api_key_pool_demo)


def batch_command(
    in_path: Annotated[Path, typer.Argument(help="Requests, one JSON object per line.")],
    out_path: Annotated[
        Path, typer.Option("--output", "-o", help="Results file (JSONL); rerun to resume.")
    ],
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Requests in flight at once.")
    ] = 16,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="provider:model for lines naming none.")
    ] = None,
    provider_batch: Annotated[
        bool,
        typer.Option("--provider-batch", help="Submit through the provider's Batch API."),
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run each failed request once more.")
    ] = False,
    rerun_failed: Annotated[
        bool,
        typer.Option("--rerun-failed", help="On resume, send failed requests again too."),
    ] = False,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first failure.")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", help="Seconds between provider-batch polls.")
    ] = 30.0,
    plain: Annotated[bool, typer.Option("--plain", help="Plain progress lines.")] = False,
) -> None:
    """Answer every request of IN (JSONL) into OUT (JSONL), skipping IDs OUT already has."""
    import asyncio

    from gluellm_plugins_batch.models import BatchConfig, BatchErrorStrategy
    from gluellm_plugins_batch.progress import Progress

    if not in_path.is_file():
        typer.echo(f"error: {in_path} is not a file", err=True)
        raise typer.Exit(2)
    strategy = BatchErrorStrategy.FAIL_FAST if fail_fast else BatchErrorStrategy.CONTINUE
    config = BatchConfig(
        max_concurrent=concurrency, error_strategy=strategy, retry_failed=retry_failed
    )

    async def run() -> tuple[int, int]:
        from gluellm.runtime import aclose_default_runtime

        try:
            if provider_batch:
                return await _provider_batch(in_path, out_path, model, rerun_failed, poll_interval)
            from gluellm_plugins_batch.files import answered_ids, count_requests, run_jsonl

            done = answered_ids(out_path, rerun_failed=rerun_failed)
            total = max(count_requests(in_path) - len(done), 0)
            with Progress(total, force_plain=plain) as progress:
                totals = await run_jsonl(
                    in_path,
                    out_path,
                    config,
                    model=model,
                    rerun_failed=rerun_failed,
                    on_result=progress.add,
                )
            return totals.done, totals.failed + totals.cancelled
        finally:
            await aclose_default_runtime()

    try:
        done, failed = asyncio.run(run())
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"{done} results written to {out_path} ({failed} failed)")
    if failed:
        raise typer.Exit(1)


async def _provider_batch(
    in_path: Path, out_path: Path, model: str | None, rerun_failed: bool, poll_interval: float
) -> tuple[int, int]:
    from gluellm_plugins_batch.files import ResultWriter, pending_requests
    from gluellm_plugins_batch.models import BatchRequest
    from gluellm_plugins_batch.provider import provider_batch_complete

    source, _ = pending_requests(in_path, out_path, model=model, rerun_failed=rerun_failed)
    requests = [r for r in source if isinstance(r, BatchRequest)]
    if not requests:
        return 0, 0

    def status(batch: Any) -> None:
        counts: Any = getattr(batch, "request_counts", None)
        if hasattr(counts, "completed"):  # OpenAI
            done: Any = counts.completed
        elif hasattr(counts, "processing"):  # Anthropic: all but those still processing
            done = len(requests) - int(counts.processing)
        else:
            done = "?"
        state = getattr(batch, "status", None) or getattr(batch, "processing_status", "?")
        typer.echo(f"provider batch {batch.id}: {state} ({done}/{len(requests)})", err=True)

    response = await provider_batch_complete(requests, poll_interval=poll_interval, on_poll=status)
    writer = ResultWriter(out_path)
    try:
        for result in response.results:
            writer.write(result)
    finally:
        writer.close()
    return response.total_requests, response.failed_requests


def _runtime_and_model(model: str | None) -> tuple[Runtime, str]:
    from gluellm.cli.demo import choose_model
    from gluellm.runtime import get_runtime

    runtime = get_runtime()
    chosen = choose_model(model, runtime.settings.default_model, runtime.transport_providers())
    return runtime, chosen


def batch_processing_demo(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1)] = 3,
    number: Annotated[int, typer.Option("--number", "-n", min=1, help="Requests to send.")] = 5,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
    ] = None,
) -> None:
    """Run a small batch and print each answer and the totals."""
    import asyncio

    from gluellm_plugins_batch.models import BatchConfig, BatchRequest
    from gluellm_plugins_batch.runner import batch_complete

    async def run() -> int:
        from gluellm.runtime import aclose_default_runtime

        runtime, chosen = _runtime_and_model(model)
        requests = [
            BatchRequest(id=f"q{i + 1}", user_message=f"What is {i + 1} + {i + 1}?", model=chosen)
            for i in range(number)
        ]
        try:
            response = await batch_complete(
                requests, BatchConfig(max_concurrent=concurrency), runtime=runtime
            )
        finally:
            await aclose_default_runtime()
        for result in response.results:
            answer = result.response if result.success else f"error: {result.error}"
            typer.echo(f"{result.id} ({result.elapsed_time:.2f}s): {answer}")
        tokens = (response.total_tokens_used or {}).get("total", "n/a")
        typer.echo(
            f"[{chosen}] {response.successful_requests}/{response.total_requests} succeeded, "
            f"{response.failed_requests} failed, {response.total_elapsed_time:.2f}s, "
            f"{tokens} tokens, concurrency {concurrency}"
        )
        return response.failed_requests

    if asyncio.run(run()):
        raise typer.Exit(1)


class _KeyCounter:
    """Passes calls to another transport, counting the API key each call was sent with."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.counts: collections.Counter[str] = collections.Counter()

    async def complete(self, call: ModelCall) -> ModelResponse:
        key = call.api_key or "(none)"
        self.counts[key] += 1
        return await self.inner.complete(call)

    async def aclose(self) -> None:
        """The inner transport belongs to the runtime, which closes it."""


def api_key_pool_demo(
    keys: Annotated[int, typer.Option("--keys", "-k", min=1, help="Keys in the pool.")] = 3,
    number: Annotated[int, typer.Option("--number", "-n", min=1)] = 12,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="provider:model; default: configured or test model"),
    ] = None,
) -> None:
    """Spread a batch over a pool of keys and print how many requests each key sent.

    Offline (the test model) the keys are made up; with a real model, pass real keys
    through your own code instead: this command only shows the spreading.
    """
    import asyncio

    from pydantic import SecretStr

    from gluellm.model_ids import split_model
    from gluellm.models.batch import APIKeyConfig
    from gluellm.runtime import override_transport
    from gluellm_plugins_batch.models import BatchConfig, BatchRequest
    from gluellm_plugins_batch.runner import batch_complete

    async def run() -> int:
        from gluellm.runtime import aclose_default_runtime

        runtime, chosen = _runtime_and_model(model)
        provider = split_model(chosen)[0]
        pool = [
            APIKeyConfig(
                key=SecretStr(f"demo-key-{i + 1:04d}"), provider=provider, requests_per_minute=600
            )
            for i in range(keys)
        ]
        counter = _KeyCounter(runtime.transport_for(provider))
        requests = [
            BatchRequest(id=f"q{i + 1}", user_message=f"Question {i + 1}", model=chosen)
            for i in range(number)
        ]
        try:
            with override_transport(counter):
                response = await batch_complete(
                    requests,
                    BatchConfig(max_concurrent=min(number, 10), api_keys=pool),
                    runtime=runtime,
                )
        finally:
            await aclose_default_runtime()
        for config in pool:
            sent = counter.counts.get(config.key.get_secret_value(), 0)
            typer.echo(f"{config.fingerprint}: {sent} requests")
        typer.echo(
            f"[{chosen}] {response.successful_requests}/{response.total_requests} succeeded "
            f"over {keys} keys in {response.total_elapsed_time:.2f}s"
        )
        return response.failed_requests

    if asyncio.run(run()):
        raise typer.Exit(1)
