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
