"""Logging: GlueLLM's log files and the logging utilities.

Writes its log files under GLUELLM_EXAMPLE_DIR, or a temporary folder.
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
    from gluellm import complete
    from gluellm.logging_config import setup_logging
    from gluellm.logging_utils import get_logger, log_async_function_call, log_timing

    folder = Path(os.environ.get("GLUELLM_EXAMPLE_DIR") or tempfile.mkdtemp())
    setup_logging(log_level="INFO", log_dir=str(folder), log_file_name="example.log", force=True)
    logger = get_logger(__name__)

    @log_async_function_call(log_args=True, log_result=True)
    async def ask(question: str) -> str:
        return (await complete(question)).final_response

    with log_timing("one question"):
        print("answer:", await ask("What is 2 + 2?"))
    logger.info("custom log message")  # your records go to your own sinks (loguru)

    log_file = folder / "example.log"
    lines = log_file.read_text().splitlines()
    print(f"{len(lines)} GlueLLM records in {log_file.name}; the first:")
    print("  " + lines[0][:120])
    assert lines
    print("LOGGING OK")


asyncio.run(main())
