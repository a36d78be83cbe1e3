"""Every Python example in docs/embeddings.md runs as written, against the fake server.

The spec's examples are pasted unchanged; those with a top-level ``await`` run inside a
coroutine. A block preceded by ``<!-- not run: reason -->`` would be skipped (none is).
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_anyllm import plugin as anyllm_plugin
from gluellm_plugins_prices import plugin as prices_plugin
from gluellm_plugins_stamina import plugin as stamina_plugin

DOC = Path(__file__).parents[3] / "docs" / "embeddings.md"
_BLOCK = re.compile(r"(<!-- not run: [^>]*-->\s*)?```python\n(.*?)```", re.DOTALL)


def blocks(path: Path) -> list[tuple[str, str, bool]]:
    """(heading, code, runnable) for each Python block of ``path``."""
    found = []
    text = path.read_text()
    for match in _BLOCK.finditer(text):
        heading = re.findall(r"^## (.+)$", text[: match.start()], re.MULTILINE)[-1]
        found.append((heading, match.group(2), match.group(1) is None))
    return found


def run_block(code: str) -> None:
    """Run ``code``; one with a top-level ``await`` runs as a coroutine's body."""
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    try:
        compiled = compile(code, str(DOC), "exec")
    except SyntaxError as error:
        if "'await' outside" not in str(error):
            raise
        wrapped = "async def __example__():\n" + textwrap.indent(code, "    ")
        exec(compile(wrapped, str(DOC), "exec"), namespace)
        asyncio.run(namespace["__example__"]())
    else:
        exec(compiled, namespace)


EXPECTED = {  # a line of the example -> what it must print
    'result = await embed("Hello, world!")': ["Dimension: 16", "Tokens: 2", "Cost: $0.000000"],
    "result = await embed(texts)": ["Generated 3 embeddings", "Each has 16 dimensions"],
    'result = await client.embed("Your text here")': ["Dimension: 16", "Echo: Summarize this"],
    '"openai/text-embedding-3-large",  # 3072 dimensions': ["Dimension: 16"],
    'extra_params={"dimensions": 256}': ["256"],
    "print(settings.default_embedding_model)": ["openai/text-embedding-3-small"],
}


@pytest.mark.parametrize(
    ("heading", "code", "runnable"),
    [pytest.param(*b, id=f"{i}-{b[0]}") for i, b in enumerate(blocks(DOC))],
)
def test_the_example_runs_as_written(
    heading, code, runnable, fake_provider_env, monkeypatch, capsys
):
    if not runnable:
        pytest.skip("marked not runnable in the doc")
    for name in ("GLUELLM_DEFAULT_EMBEDDING_MODEL", "GLUELLM_DEFAULT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    manager = create_plugin_manager(load_entrypoints=False)
    for name, plugin in (
        ("anyllm", anyllm_plugin),
        ("stamina", stamina_plugin),
        ("prices", prices_plugin),
    ):
        manager.register(plugin, name=name)
    runtime = Runtime(manager, settings=Settings(_env_file=None))  # type: ignore[call-arg]

    with use_runtime(runtime):
        run_block(code)

    out = capsys.readouterr().out
    for line, printed in EXPECTED.items():
        if line in code:
            assert all(text in out for text in printed), out
    assert fake_provider_env.errors == []
    if "embed(" in code:
        assert fake_provider_env.embedding_requests, "the example sent no embedding request"


def test_every_expected_output_belongs_to_a_runnable_example():
    runnable = [code for _, code, ok in blocks(DOC) if ok]
    for line in EXPECTED:
        assert sum(line in code for code in runnable) == 1, line
    assert len(runnable) == len(blocks(DOC)) == 8


def test_the_testing_docs_embeddings_example_runs(fake_provider_env):
    text = (DOC.parent / "testing.md").read_text().split("## Embeddings on the fake server")[1]
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    namespace: dict[str, Any] = {}
    exec(compile(code, "testing.md", "exec"), namespace)
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(anyllm_plugin, name="anyllm")
    manager.register(stamina_plugin, name="stamina")
    fast_retries = Settings(_env_file=None, retry_min_wait=0, retry_multiplier=0)  # type: ignore[call-arg]
    runtime = Runtime(manager, settings=fast_retries)

    async def main() -> None:
        with use_runtime(runtime):
            await namespace["test_embeddings_after_a_rate_limit"](fake_provider_env)
        await runtime.aclose()

    asyncio.run(main())
