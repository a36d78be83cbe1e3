"""Embeddings: vectors for texts, and a cosine similarity between two of them."""

import asyncio
import math
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")

if os.environ.get("GLUELLM_DEFAULT_MODEL", "").startswith("test:"):
    os.environ.setdefault("GLUELLM_DEFAULT_EMBEDDING_MODEL", "test:embed")


async def main() -> None:
    """Run the example."""
    from gluellm import embed

    result = await embed(["GlueLLM glues models together.", "Cats sleep a lot."])
    first, second = result.embeddings
    cosine = sum(a * b for a, b in zip(first, second, strict=True)) / (
        math.sqrt(sum(a * a for a in first)) * math.sqrt(sum(b * b for b in second))
    )
    print(f"{len(result.embeddings)} vectors of {len(first)} dimensions; cosine {cosine:.3f}")
    print("EMBEDDINGS OK")


asyncio.run(main())
