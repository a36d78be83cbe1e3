"""Every setting the plugin documents has an effect, and stores are offered by name."""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from gluellm import hookimpl
from gluellm.api import complete
from gluellm.eval import JSONLFileStore, SQLiteStore, flush_recording
from gluellm.models.eval import EvalRecord
from gluellm.plugins import PluginManager
from gluellm.runtime import Runtime, use_runtime
from gluellm.setting_owners import UnreadSettingWarning
from gluellm.testing import ScriptedTransport
from gluellm_plugins_eval import recorder
from gluellm_plugins_eval.settings import EvalSettings

from .conftest import ScriptedProvider, make_settings, read_jsonl


def runtime_with(
    plugin_manager: PluginManager, tmp_path: Path, name: str, **plugin_settings
) -> Runtime:
    settings = make_settings(eval_recording_enabled=True, eval_recording_path=str(tmp_path / name))
    return Runtime(
        plugin_manager, settings=settings, plugin_settings=[EvalSettings(**plugin_settings)]
    )


async def test_enabled_and_path_record_without_code(
    plugin_manager: PluginManager, provider: ScriptedProvider, tmp_path: Path
):
    provider.transport = ScriptedTransport("hi")
    with use_runtime(runtime_with(plugin_manager, tmp_path, "logs/records.jsonl")):
        await complete("recorded")
    await flush_recording()
    (record,) = read_jsonl(tmp_path / "logs" / "records.jsonl")
    assert record["user_message"] == "recorded"
    (store,) = recorder.env_stores()
    assert isinstance(store, JSONLFileStore)
    await store.close()


async def test_disabled_by_default(runtime: Runtime, scripted: ScriptedTransport):
    scripted.add("hi")
    await complete("not recorded")
    assert recorder.env_stores() == []


async def test_store_kind_and_queue_options(
    plugin_manager: PluginManager, provider: ScriptedProvider, tmp_path: Path
):
    provider.transport = ScriptedTransport("hi")
    runtime = runtime_with(
        plugin_manager,
        tmp_path,
        "records.db",
        eval_recording_store="sqlite",
        eval_queue_size=7,
        eval_when_full="drop",
        eval_record_timeout=3.5,
    )
    with use_runtime(runtime):
        await complete("into sqlite")
    (store,) = recorder.env_stores()
    assert isinstance(store, SQLiteStore)
    assert (store.queue_size, store.when_full, store.record_timeout) == (7, "drop", 3.5)
    await store.close()
    with sqlite3.connect(tmp_path / "records.db") as db:
        assert db.execute("SELECT count(*) FROM eval_records").fetchone()[0] == 1


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GLUELLM_EVAL_RECORDING_STORE", "sqlite")
    monkeypatch.setenv("GLUELLM_EVAL_QUEUE_SIZE", "12")
    monkeypatch.setenv("GLUELLM_EVAL_WHEN_FULL", "drop")
    monkeypatch.setenv("GLUELLM_EVAL_RECORD_TIMEOUT", "1.5")
    settings = EvalSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.eval_recording_store == "sqlite"
    assert settings.eval_queue_size == 12
    assert settings.eval_when_full == "drop"
    assert settings.eval_record_timeout == 1.5


async def test_a_plugin_store_can_be_chosen_by_name(
    plugin_manager: PluginManager, provider: ScriptedProvider, tmp_path: Path
):
    received: list[tuple[str, EvalRecord]] = []

    class ListStore:
        def __init__(self, path: str) -> None:
            self.path = path

        async def record(self, record: EvalRecord) -> None:
            received.append((self.path, record))

        async def close(self) -> None:
            pass

    class ThirdParty:
        @hookimpl
        def register_eval_stores(self, register: Callable[[str, object], None]) -> None:
            register("memory", ListStore)

    plugin_manager.register(ThirdParty(), name="third-party")
    provider.transport = ScriptedTransport("hi")
    runtime = runtime_with(plugin_manager, tmp_path, "x", eval_recording_store="memory")
    assert {"jsonl", "sqlite", "callback", "multi", "memory"} <= set(runtime.eval_stores)
    with use_runtime(runtime):
        await complete("to a plugin's store")
    await flush_recording()
    ((path, record),) = received
    assert path == str((tmp_path / "x").resolve())
    assert record.user_message == "to a plugin's store"


async def test_an_unknown_store_name_is_logged_and_nothing_recorded(
    plugin_manager: PluginManager, provider: ScriptedProvider, tmp_path: Path
):
    from loguru import logger

    messages: list[str] = []
    sink = logger.add(messages.append, level="ERROR", format="{message}")
    provider.transport = ScriptedTransport("hi")
    runtime = runtime_with(plugin_manager, tmp_path, "x", eval_recording_store="nosuch")
    try:
        with use_runtime(runtime):
            result = await complete("still answered")
    finally:
        logger.remove(sink)
    assert result.final_response == "hi"
    assert any("'nosuch' names no registered eval store" in m for m in messages)
    assert recorder.env_stores() == []


def test_the_plugin_reads_the_core_recording_settings(
    plugin_manager: PluginManager, monkeypatch: pytest.MonkeyPatch
):
    from gluellm import setting_owners
    from gluellm.plugins import create_plugin_manager

    monkeypatch.setattr(setting_owners, "_warned", set())
    settings = make_settings(eval_recording_enabled=True, eval_recording_path="elsewhere.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreadSettingWarning)
        Runtime(plugin_manager, settings=settings).configure()
    # Without the plugin, the same settings are reported as unread.
    bare = create_plugin_manager(load_entrypoints=False)
    with pytest.warns(UnreadSettingWarning, match="gluellm-plugins-eval"):
        Runtime(bare, settings=settings).configure()
