"""The guide pages' Python blocks run offline and print what the pages say they print.

Blocks of a page run in order in one namespace, as a reader would paste them, on the
test model (``GLUELLM_DEFAULT_MODEL=test:demo``) with every plugin installed; a block
with top-level ``await`` runs in a coroutine. A block preceded by
``<!-- not-run: reason -->`` is skipped. The hook reference's examples are also fired:
registered together on one runtime, a whole call makes every observer and lifecycle
example print.
"""

from __future__ import annotations

import ast
import asyncio
import re
import textwrap
import time
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
BLOCK = re.compile(
    r"(?P<marker><!-- not-run: (?P<reason>[^>]*?) -->\s*\n)?(?P<indent>[ \t]*)```python\n"
    r"(?P<body>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
PRELUDE = "import asyncio\nimport time\nfrom gluellm import hookimpl\n"

# Pages about rate limits run with the limiter on; the others without it (no waiting).
LIMITED = {"docs/rate-limits.md"}
# Page -> what its blocks print (substrings of the captured output, in order).
PAGES: dict[str, list[str]] = {
    "docs/index.md": [
        "Tool results: Weather in",
        "PersonInfo",
        "Earlier you said: 'My name is Ada.'",
    ],
    "docs/providers.md": [
        "('openai', 'gpt-4o-mini')",
        "('ollama', 'llama3:8b')",
        "('openrouter', 'meta-llama/llama-3')",
        "No transport serves provider 'nosuchprovider'",
        "Install one with: pip install gluellm-plugins-anyllm",
        "test:another-model test:another-model",
    ],
    "docs/conversations.md": [
        "Earlier you said: 'What is 12 x 12?'",
        "['user', 'assistant', 'user', 'assistant']\n0\n",
        "[{'role': 'user', 'content': \"Hi, I'm Ada.\"}, {'role': 'assistant'",
        "4\n",
        "shorten the input: This model's maximum context length is 8192 tokens\n1\n",
    ],
    "docs/tools.md": [
        "get_weather - Get the current weather for a location.",
        "'description': 'Temperature unit.'",
        "['location']",
        "Tokyo: 22 C, Paris: 72 F, both sunny.\n2\n",
        "get_weather {'location': 'Paris', 'unit': 'fahrenheit'} -> 22 degrees fahrenheit",
        "True Error: 'divide' raised ZeroDivisionError",
        "tool\n",
        "0 [{'id':",
    ],
    "docs/structured-output.md": [
        "True {'prompt':",
        "14000000 2\n",
        "did not match the required City JSON schema",
        "1\n",
    ],
    "docs/rate-limits.md": ["False\n", "(test model) You said: 'Hello!'."],
    "docs/retries.md": [
        "Done. 2\n",
        "upstream 503 (gave up after 3 attempts)\n",
        "3 3\n",
    ],
    "docs/differences.md": ["test:demo -> (test model)", "test/demo -> (test model)"],
    # The plugins' READMEs the site includes (reference/readmes/*.md).
    "docs/reference/readmes/aiolimiter.md": [],
    "docs/plugins/transport.md": [
        "Hello! Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5) stop",
        "429 -> RateLimitError 2.0",
        "It is noon. 1",
        "'content': 'noon in Oslo'",
        "acme\nTinyTransport\n",
    ],
}


SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)


def blocks(page: str) -> list[tuple[str | None, str]]:
    """(not-run reason or None, code) for each Python block of ``page`` as the site shows it.

    Files the page includes (``--8<-- "path"`` snippets) are expanded first.
    """
    text = SNIPPET.sub(lambda m: (ROOT / m["path"]).read_text(), (ROOT / page).read_text())
    found = []
    for match in BLOCK.finditer(text):
        indent = match["indent"]
        lines = match["body"].splitlines()
        body = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in lines)
        found.append((match["reason"], textwrap.dedent(body)))
    return found


def run_block(code: str, namespace: dict[str, Any], name: str) -> None:
    """Run one block; a block with top-level ``await`` runs in a coroutine of its own loop."""
    try:
        compiled = compile(code, name, "exec")
    except SyntaxError:
        wrapped = (
            f"async def __doc_block__():\n{textwrap.indent(code, '    ')}\n    return locals()"
        )
        exec(compile(ast.parse(wrapped), name, "exec"), namespace)
        namespace.update(asyncio.run(namespace.pop("__doc_block__")()))
        return
    exec(compiled, namespace)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("GLUELLM_DEFAULT_MODEL", "test:demo")
    monkeypatch.setenv("GLUELLM_RATE_LIMIT_ENABLED", "false")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "XAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    from gluellm import config

    monkeypatch.setattr(config, "settings", config.Settings())
    yield
    from gluellm.runtime import aclose_default_runtime

    asyncio.run(aclose_default_runtime())


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_pages_blocks_run_and_print_what_they_say(page, capsys, monkeypatch):
    if page in LIMITED:
        from gluellm import config

        monkeypatch.setenv("GLUELLM_RATE_LIMIT_ENABLED", "true")
        monkeypatch.setattr(config, "settings", config.Settings())
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    exec(PRELUDE, namespace)
    ran = 0
    for number, (reason, code) in enumerate(blocks(page)):
        if reason is None:
            run_block(code, namespace, f"{page} block {number}")
            ran += 1
    assert ran, f"{page} has no runnable block"
    printed = capsys.readouterr().out
    position = 0
    for expected in PAGES[page]:
        found = printed.find(expected, position)
        assert found >= 0, f"{page}: {expected!r} not printed (after {position}):\n{printed}"
        position = found + len(expected)


@pytest.mark.usefixtures("offline")
def test_the_testing_pages_scripted_example_passes():
    """docs/testing.md, "## Scripted replies": the example test, run as pytest would."""
    text = (ROOT / "docs/testing.md").read_text().split("## Scripted replies", 1)[1]
    [(reason, code), *_] = blocks_of(text)
    assert reason is None

    def get_weather(location: str) -> str:
        """Weather.

        Args:
            location: Where.
        """
        return f"Sunny in {location}"

    namespace: dict[str, Any] = {"get_weather": get_weather}
    exec(compile(code, "docs/testing.md", "exec"), namespace)
    asyncio.run(namespace["test_weather_answer"]())


def blocks_of(text: str) -> list[tuple[str | None, str]]:
    return [(m["reason"], textwrap.dedent(m["body"])) for m in BLOCK.finditer(text)]


# --- the hook reference's examples, fired -------------------------------------------


def _hook_example_plugins() -> list[types.SimpleNamespace]:
    """One plugin object per hooks.md block, holding that block's hook implementations."""
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    exec(PRELUDE, namespace)
    plugins = []
    for number, (reason, code) in enumerate(blocks("docs/plugins/hooks.md")):
        if reason is not None:
            continue
        run_block(code, namespace, f"hooks.md block {number}")
        hooks = {k: v for k, v in namespace.items() if hasattr(v, "gluellm_impl")}
        for name in hooks:
            namespace.pop(name)
        if hooks:
            plugins.append(types.SimpleNamespace(**hooks))
    return plugins


def _runtime_with(*names: str):
    from gluellm.config import Settings
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime
    from gluellm_plugins_mock import plugin as mock_plugin

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(mock_plugin)  # the test model
    for number, plugin in enumerate(_hook_example_plugins()):
        if set(vars(plugin)) & set(names):
            manager.register(plugin, name=f"hooks-example-{number}")
    settings = Settings(_env_file=None, default_model="test:demo")
    return Runtime(manager, settings=settings)


def test_the_observer_and_lifecycle_examples_fire(capsys):
    from gluellm.api import complete
    from gluellm.errors import APIConnectionError
    from gluellm.runtime import override_transport, use_runtime
    from gluellm.testing import ScriptedTransport, reply, tool_call

    runtime = _runtime_with(
        "configure", "register_tools", "get_retrier", "on_call_end", "on_retry",
        "on_tool_call", "startup", "shutdown",
    )  # fmt: skip
    runtime.configure()
    transport = ScriptedTransport(
        APIConnectionError("upstream 503"),
        reply(tool_calls=[tool_call("word_count", {"text": "one two three"})]),
        reply("Three words.", usage=(12, 2)),
    )

    async def main():
        try:
            with use_runtime(runtime), override_transport(transport):
                return await complete("Count: one two three", tools=["word_count"])
        finally:
            await runtime.aclose()

    result = asyncio.run(main())
    assert result.final_response == "Three words."
    assert result.tool_execution_history[0]["result"] == "3"  # the registered tool ran
    assert len(transport.calls) == 3  # the example retrier retried once
    printed = capsys.readouterr().out
    for expected in (
        "GlueLLM runs offline: answers come from the test model",  # configure
        "ready; default model: test:demo",  # startup
        "attempt 1 failed (APIConnectionError); next in 0.5 s",  # on_retry
        "word_count {'text': 'one two three'} ok",  # on_tool_call
        "test:demo Usage(prompt_tokens=12, completion_tokens=2, total_tokens=14)",  # on_call_end
        "GlueLLM runtime closed",  # shutdown
    ):
        assert expected in printed, f"{expected!r} not in:\n{printed}"


def test_the_registration_examples_register_what_they_say():
    runtime = _runtime_with("register_tools", "register_workflows", "register_eval_stores")
    assert "word_count" in runtime.tools
    assert "shout" in runtime.workflows
    assert "print" in runtime.eval_stores


def test_the_workflow_example_runs(capsys):
    from gluellm.runtime import use_runtime

    runtime = _runtime_with("register_workflows")

    async def main():
        try:
            with use_runtime(runtime):
                workflow = runtime.workflows["shout"](model="test:demo")
                return await workflow.execute("hello there")
        finally:
            await runtime.aclose()

    assert asyncio.run(main()) == "(TEST MODEL) YOU SAID: 'HELLO THERE'."
    assert "GlueLLM runtime closed" not in capsys.readouterr().out  # shutdown not registered


def test_the_rate_limiter_example_spaces_ollama_calls_only():
    from gluellm.call import ModelCall, ModelResponse

    runtime = _runtime_with("get_rate_limiter")
    hook = runtime.plugin_manager.hook.get_rate_limiter

    def call(provider: str) -> ModelCall:
        return ModelCall(model=f"{provider}:m", provider=provider, model_name="m", messages=[])

    assert hook(call=call("openai"), runtime=runtime) is None
    limiter = hook(call=call("ollama"), runtime=runtime)

    async def answer(_call):
        return ModelResponse(content="ok")

    async def three():
        started = time.monotonic()
        await asyncio.gather(*(limiter(call("ollama"), answer) for _ in range(3)))
        return time.monotonic() - started

    assert asyncio.run(three()) >= 1.9  # three calls: starts at 0, 1 and 2 s


def test_every_hook_in_the_reference_has_an_example_implementing_it():
    """Each hook's section of hooks.md shows a ``@hookimpl`` of that very hook."""
    from gluellm import hookspecs

    text = (ROOT / "docs/plugins/hooks.md").read_text()
    sections = re.split(r"^### `", text, flags=re.MULTILINE)[1:]
    examples = {section.split("(", 1)[0]: section for section in sections}
    hooks = [name for name, value in vars(hookspecs).items() if hasattr(value, "gluellm_spec")]
    assert len(hooks) >= 15
    for hook in hooks:
        section = examples.get(hook, "")
        codes = [code for _, code in blocks_of(section)]
        assert any(
            re.search(rf"^@hookimpl\b[^\n]*\ndef {hook}\(", code, re.MULTILINE) for code in codes
        ), f"docs/plugins/hooks.md: the {hook} section has no example implementing it"
