"""The plugin is found through its entry point and costs nothing until the first call."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gluellm.api import GlueLLM
from gluellm.errors import APIConnectionError
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime

from .conftest import MODEL, RetryObserver, ScriptedProvider, make_settings


def test_the_entry_point_registers_the_retrier():
    manager = create_plugin_manager(env={"GLUELLM_LOAD_PLUGINS": "stamina"})
    assert manager.has_plugin("stamina")
    assert [impl.plugin_name for impl in manager.hook.get_retrier.get_hookimpls()] == ["stamina"]


def test_loading_plugins_does_not_import_stamina():
    code = (
        "import sys\n"
        "from gluellm.plugins import create_plugin_manager\n"
        "assert create_plugin_manager().has_plugin('stamina')\n"
        "print(sorted(m for m in ('stamina', 'tenacity') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.usefixtures("no_backoff")
async def test_a_client_with_its_own_runtime_uses_its_settings_and_observers():
    # The retrier looks the runtime up with get_runtime(); the pipeline scopes a client's
    # runtime= for the call, so that finds the client's settings and observers.
    manager = create_plugin_manager(load_entrypoints=False)
    from gluellm_plugins_stamina import plugin

    manager.register(plugin, name="stamina")
    provider, observer = ScriptedProvider(), RetryObserver()
    manager.register(provider, name="scripted-provider")
    manager.register(observer, name="observer")
    provider.transport.add(*[APIConnectionError("500") for _ in range(5)])
    runtime = Runtime(manager, settings=make_settings(retry_max_attempts=2, retry_min_wait=0))
    with pytest.raises(APIConnectionError):
        await GlueLLM(MODEL, runtime=runtime).complete("hi")
    assert len(provider.transport.calls) == 2
    assert [attempt for attempt, _, _ in observer.retries] == [1]


def test_retries_do_not_print_stamina_bare_log_lines_in_unconfigured_apps():
    code = """
import asyncio
from loguru import logger
from gluellm.api import complete
from gluellm.config import Settings
from gluellm.errors import APIConnectionError
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, override_transport, use_runtime
from gluellm.testing import ScriptedTransport
from gluellm_plugins_stamina import plugin

logger.remove()
manager = create_plugin_manager(load_entrypoints=False)
manager.register(plugin, name="stamina")
settings = Settings(_env_file=None, retry_min_wait=0, retry_max_wait=0, retry_multiplier=0)
transport = ScriptedTransport(APIConnectionError("500"), "ok")

async def main():
    with use_runtime(Runtime(manager, settings=settings)), override_transport(transport):
        print((await complete("hi", model="x:y")).final_response)
    print(len(transport.calls))

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "2"]
    assert "stamina.retry_scheduled" not in done.stderr
