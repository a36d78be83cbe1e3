"""Eval recording: every run written as a JSON line (request, answer, tokens, errors).

Needs gluellm-plugins-eval. Writes under GLUELLM_EXAMPLE_DIR, or a temporary folder.
"""

import asyncio
import json
import os
import tempfile
from pathlib import Path

# Offline on the test model unless an API key is set (then GLUELLM_DEFAULT_MODEL or its default).
if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("GLUELLM_OPENAI_API_KEY")):
    os.environ.setdefault("GLUELLM_DEFAULT_MODEL", "test:demo")


async def main() -> None:
    """Run the example."""
    from gluellm import GlueLLM
    from gluellm.eval import JSONLFileStore

    folder = Path(os.environ.get("GLUELLM_EXAMPLE_DIR") or tempfile.mkdtemp())
    store = JSONLFileStore(str(folder / "records.jsonl"))
    client = GlueLLM(eval_store=store)
    await client.complete("What is 2 + 2?")
    try:
        await client.complete("Hello", model="invalid:model-name")
    except Exception as error:  # recorded with error_type and error_message
        print("expected failure:", type(error).__name__)
    await store.close()

    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    for record in records:
        print(f"record: success={record.get('success')} error_type={record.get('error_type')}")
    assert len(records) == 2
    print("EVAL RECORDING OK")


asyncio.run(main())
