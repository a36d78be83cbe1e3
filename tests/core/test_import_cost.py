"""`import gluellm` and `gluellm --help` stay free of provider SDKs (plugins included)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

PROVIDER_MODULES = ("openai", "anthropic", "any_llm", "httpx", "aiohttp", "redis", "stamina")

PROBE = """
import json, sys
{setup}
heavy = sorted(m for m in {modules!r} if m in sys.modules)
print(json.dumps(heavy))
"""


def _heavy_modules_after(setup: str) -> list[str]:
    code = PROBE.format(setup=setup, modules=PROVIDER_MODULES)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_gluellm_imports_no_provider_sdk():
    assert _heavy_modules_after("import gluellm; gluellm.hookimpl") == []


def test_import_gluellm_stays_light():
    proc = subprocess.run(
        [sys.executable, "-c", "import gluellm, sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = subprocess.run(
        [sys.executable, "-c", "import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    # pluggy and the lazy exports only: pydantic and friends load on first use.
    assert int(proc.stdout) - int(baseline.stdout) < 60
    assert _heavy_modules_after("import gluellm") == []
    assert "pydantic" not in _heavy_modules_after("import gluellm")  # sanity: probe works


def test_gluellm_help_with_all_installed_plugins_imports_no_provider_sdk():
    setup = (
        "from gluellm.cli import build_app\n"
        "from typer.testing import CliRunner\n"
        "result = CliRunner().invoke(build_app(), ['--help'])\n"
        "assert result.exit_code == 0, result.output"
    )
    assert _heavy_modules_after(setup) == []


def test_public_names_resolve_and_stay_in_step():
    import ast
    from pathlib import Path

    import gluellm

    lazy = set(gluellm._EXPORTS)
    assert set(gluellm.__all__) == {"__version__", "hookimpl"} | lazy
    tree = ast.parse(Path(gluellm.__file__).read_text())
    typed = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    } - {"annotations", "TYPE_CHECKING", "Any", "hookimpl"}
    assert typed == lazy  # what type checkers see is what users get
    for name in gluellm.__all__:
        try:
            value = getattr(gluellm, name)
        except ImportError as error:  # a plugin's name, with only core installed
            value = "pip install gluellm-plugins-" in str(error) or None
        assert value is not None, f"gluellm.{name} does not resolve"


def test_gluellm_help_does_not_load_rich():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gluellm.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Commands:" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert not {name for name in imported if name.split(".")[0] == "rich"}


HEAVY_FOR_API = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "cattrs",
    "jinja2",
    "genai_prices",
    "loguru",
    "opentelemetry",
    *PROVIDER_MODULES,
)


def _loaded_after(setup: str, modules: tuple[str, ...]) -> list[str]:
    code = PROBE.format(setup=setup, modules=modules)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_gluellm_api_loads_no_pydantic_and_no_sdk():
    assert _loaded_after("import gluellm.api", HEAVY_FOR_API) == []
    # The probe sees what a first client loads: it is not blind.
    assert "pydantic" in _loaded_after("import gluellm.api; gluellm.api.GlueLLM()", HEAVY_FOR_API)


def test_import_gluellm_api_leaves_asyncio_to_the_first_call():
    # asyncio (with ssl, socket, subprocess ...) was 40% of `import gluellm.api`.
    assert _loaded_after("import gluellm.api", ("asyncio", "ssl")) == []


def test_public_api_names_import_from_gluellm_api_as_before():
    setup = (
        "from gluellm.api import EmbeddingResult, StreamChunk, ToolExecutionResult\n"
        "assert ToolExecutionResult.__module__ == 'gluellm.results', ToolExecutionResult\n"
        "assert EmbeddingResult.__module__ == 'gluellm.embeddings', EmbeddingResult\n"
        "assert StreamChunk.__module__ == 'gluellm.streaming', StreamChunk\n"
        "import gluellm.api\n"
        "for name in gluellm.api.__all__:\n"
        "    assert getattr(gluellm.api, name) is not None, name"
    )
    assert _loaded_after(setup, ("pydantic",)) == ["pydantic"]


def test_unknown_api_attribute_is_an_attribute_error():
    import gluellm.api

    with pytest.raises(AttributeError, match="no_such_name"):
        gluellm.api.no_such_name  # noqa: B018


async def test_warmup_starts_plugins_and_prepares_each_models_transport():
    from gluellm import hookimpl, warmup
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime
    from gluellm.testing import ScriptedTransport

    prepared: list[tuple[str, str | None, str | None]] = []
    started: list[Runtime] = []

    class Preparing(ScriptedTransport):
        async def prepare(self, call):
            prepared.append((call.model, call.api_key, call.base_url))

    class Plugin:
        @hookimpl
        def register_transports(self, register):
            register("warm", Preparing)

        @hookimpl
        def startup(self, runtime):
            started.append(runtime)

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Plugin(), name="warm-plugin")
    runtime = Runtime(manager)
    await warmup("warm:a", "warm:b", api_key="sk-x", base_url="http://h/v1", runtime=runtime)
    assert prepared == [("warm:a", "sk-x", "http://h/v1"), ("warm:b", "sk-x", "http://h/v1")]
    assert started == [runtime]
    assert runtime.started
    await runtime.aclose()


async def test_warmup_waits_for_background_warm_ups_that_calls_do_not_wait_for():
    import threading

    from gluellm import hookimpl, warmup
    from gluellm.api import complete
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime
    from gluellm.testing import ScriptedTransport, reply

    release = threading.Event()
    finished = threading.Event()
    transport = ScriptedTransport(reply("ok"))

    def background() -> None:
        release.wait(30)
        finished.set()

    class Plugin:
        @hookimpl
        def register_transports(self, register):
            register("warm", lambda: transport)

        @hookimpl
        def startup(self, runtime):
            threading.Thread(target=background, daemon=True).start()
            runtime.add_warm_up(finished.wait)

    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(Plugin(), name="warm-plugin")
    runtime = Runtime(manager)
    with use_runtime(runtime):
        assert (await complete("hi", model="warm:m")).final_response == "ok"  # did not wait
        assert not finished.is_set()
        waiting = asyncio.ensure_future(warmup("warm:m", runtime=runtime))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # warmup() waits for the background work
        release.set()
        await asyncio.wait_for(waiting, 30)
    assert finished.is_set()
    await runtime.aclose()


async def test_warmup_names_a_provider_nobody_serves():
    from gluellm import warmup
    from gluellm.errors import ConfigurationError
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime

    runtime = Runtime(create_plugin_manager(load_entrypoints=False))
    with pytest.raises(ConfigurationError, match="'nowhere'"):
        await warmup("nowhere:model", runtime=runtime)
    with pytest.raises(ValueError, match="model must be"):
        await warmup("", runtime=runtime)
