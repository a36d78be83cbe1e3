"""The examples in docs/testing.md run as written, on the default runtime with every plugin."""

from __future__ import annotations

import re
from pathlib import Path

TESTING_DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def _example(heading: str) -> str:
    section = TESTING_DOC.read_text().split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


async def test_fake_server_example_from_the_testing_doc(fake_provider_env):
    namespace: dict = {}
    exec(_example("## Over real HTTP: the fake provider server"), namespace)
    await namespace["test_answer_after_a_rate_limit"](fake_provider_env)
