"""Batch processing: many requests with bounded concurrency, results in input order.

Needs gluellm-plugins-batch.
"""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm import BatchConfig, BatchErrorStrategy, BatchRequest, batch_complete

    requests = [
        BatchRequest(id=f"q{i}", user_message=question)
        for i, question in enumerate(
            ["What is 2+2?", "Capital of Japan?", "Name a prime number.", "Say hello."]
        )
    ]
    response = await batch_complete(
        requests,
        config=BatchConfig(max_concurrent=2, error_strategy=BatchErrorStrategy.CONTINUE),
    )
    for result in response.results:
        print(f"{result.id}: success={result.success} {str(result.response)[:60]}")
    print(f"{response.successful_requests}/{response.total_requests} succeeded")
    assert response.successful_requests == len(requests)
    print("BATCH OK")


asyncio.run(main())
