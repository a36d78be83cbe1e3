"""Streaming: print tokens as they arrive; the last chunk carries the whole result."""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm import stream_complete

    chunks = 0
    async for chunk in stream_complete("Tell me a short story about a robot."):
        if chunk.content:
            chunks += 1
            print(chunk.content, end="", flush=True)
        if chunk.done and chunk.result is not None:
            print(f"\n[{chunks} chunks, tokens: {chunk.result.tokens_used}]")
    assert chunks > 1
    print("STREAMING OK")


asyncio.run(main())
