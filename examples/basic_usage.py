"""Basic usage: one completion, the answer, its tokens and correlation ID."""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm import complete

    result = await complete("What is the capital of France?", system_prompt="Be brief.")
    print("answer:", result.final_response)
    print("tokens:", result.tokens_used)
    print("model:", result.model)
    print("BASIC USAGE OK")


asyncio.run(main())
