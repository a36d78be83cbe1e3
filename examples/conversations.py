"""Conversations: a client with memory, saved to JSON and loaded back.

Writes its file under GLUELLM_EXAMPLE_DIR, or a temporary folder.
"""

import asyncio
import os
import tempfile
from pathlib import Path

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm import GlueLLM
    from gluellm.models.conversation import Conversation

    client = GlueLLM(system_prompt="You are a helpful assistant with memory.")
    await client.complete("My favorite color is blue.")
    answer = await client.complete("What's my favorite color?")
    print("answer:", answer.final_response)

    folder = Path(os.environ.get("GLUELLM_EXAMPLE_DIR") or tempfile.mkdtemp())
    path = folder / "conversation.json"
    path.write_text(client.conversation.model_dump_json(indent=2))
    restored = Conversation.model_validate_json(path.read_text())
    print(f"saved and restored {len(restored.messages)} messages ({path.name})")
    assert restored.messages == client.conversation.messages
    client.reset_conversation()
    print("after reset:", len(client.conversation.messages), "messages")
    print("CONVERSATIONS OK")


asyncio.run(main())
