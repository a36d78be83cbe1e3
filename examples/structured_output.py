"""Structured output: the answer validated into a Pydantic model (re-asked if invalid)."""

import asyncio
import os

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")

from pydantic import BaseModel, Field


class PersonInfo(BaseModel):
    """A person, as extracted from text."""

    name: str = Field(description="Full name")
    age: int = Field(description="Age in years")
    city: str = Field(description="City of residence")


async def main() -> None:
    """Run the example."""
    from gluellm import structured_complete

    person = await structured_complete(
        "Extract: John Smith, 35, lives in Seattle", response_format=PersonInfo
    )
    print(repr(person))
    assert isinstance(person, PersonInfo)
    print("STRUCTURED OUTPUT OK")


asyncio.run(main())
