"""GlueLLM's logging: rotating file, JSON lines, correlation IDs, no secrets, no noise.

Process-wide state (loguru's handlers) is reset around every test; behaviour at import
and on a first call is checked in fresh interpreters.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from loguru import logger

from gluellm.config import Settings
from gluellm.correlation import correlation_scope
from gluellm.logging_config import logging_configured, redact_secrets, reset_logging, setup_logging

FAKE_KEY = "sk-proj-GLUELLMFAKEKEY0123456789abcdef"
"""A recognisable fake key: no log line may contain it."""

# Records as GlueLLM's own modules make them (the sinks take only GlueLLM's records).
glog = logger.patch(lambda record: record.update(name="gluellm.tests"))


@pytest.fixture(autouse=True)
def fresh_logging(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("GLUELLM_LOG") or name == "GLUELLM_DISABLE_LOGGING":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    reset_logging()
    yield
    reset_logging()


def configure(**env: str) -> Settings:
    """Settings read from ``GLUELLM_*`` variables (as an app would set them)."""
    os.environ.update(env)
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    finally:
        for name in env:
            del os.environ[name]
    setup_logging(settings=settings, force=True)
    return settings


def test_the_file_rotates_at_max_bytes_and_keeps_backup_count_files(tmp_path):
    configure(
        GLUELLM_LOG_DIR=str(tmp_path / "logs"),
        GLUELLM_LOG_MAX_BYTES="1500",
        GLUELLM_LOG_BACKUP_COUNT="2",
    )
    for i in range(200):
        glog.info("record {:03d} {}", i, "x" * 40)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["gluellm.log", "gluellm.log.1", "gluellm.log.2"]
    for path in (tmp_path / "logs").iterdir():
        assert 0 < path.stat().st_size <= 1500
    newest = (tmp_path / "logs" / "gluellm.log").read_text()
    assert "record 199" in newest
    kept = "".join((tmp_path / "logs" / f).read_text() for f in files)
    assert "record 000" not in kept  # the oldest were rotated away


def test_no_backups_means_the_file_starts_afresh(tmp_path):
    configure(
        GLUELLM_LOG_DIR=str(tmp_path), GLUELLM_LOG_MAX_BYTES="800", GLUELLM_LOG_BACKUP_COUNT="0"
    )
    for i in range(100):
        glog.info("record {:03d} {}", i, "y" * 40)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gluellm.log"]
    assert (tmp_path / "gluellm.log").stat().st_size <= 800
    assert "record 099" in (tmp_path / "gluellm.log").read_text()


def test_json_lines_parse_and_carry_the_correlation_id(tmp_path):
    configure(GLUELLM_LOG_DIR=str(tmp_path), GLUELLM_LOG_JSON_FORMAT="true")
    with correlation_scope("cid-json-1"):
        glog.bind(
            model="openai:gpt-4o-mini",
            latency=1.234,
            tokens={"total": 150, "prompt": 100, "completion": 50},
        ).info("LLM call completed")
        try:
            raise ValueError("broken")
        except ValueError:
            glog.exception("it failed")
    glog.warning("outside any call")
    lines = [json.loads(line) for line in (tmp_path / "gluellm.log").read_text().splitlines()]
    assert len(lines) == 3
    first, failure, outside = lines
    assert first["message"] == "LLM call completed"
    assert first["name"] == "gluellm.tests"
    assert first["levelname"] == "INFO"
    assert first["asctime"][:4].isdigit()
    assert first["correlation_id"] == "cid-json-1"
    assert first["model"] == "openai:gpt-4o-mini"
    assert first["latency"] == 1.234
    assert first["tokens"] == {"total": 150, "prompt": 100, "completion": 50}
    assert failure["correlation_id"] == "cid-json-1"
    assert "ValueError: broken" in failure["exception"]
    assert outside["correlation_id"] == "-"


def test_text_lines_carry_the_correlation_id_and_respect_the_file_level(tmp_path):
    configure(
        GLUELLM_LOG_DIR=str(tmp_path / "d"),
        GLUELLM_LOG_FILE_NAME="app.log",
        GLUELLM_LOG_FILE_LEVEL="WARNING",
    )
    with correlation_scope("cid-text-7"):
        glog.info("dropped: below the file level")
        glog.warning("kept")
    text = (tmp_path / "d" / "app.log").read_text()
    assert "dropped" not in text
    [line] = text.splitlines()
    assert "WARNING" in line
    assert "cid=cid-text-7" in line
    assert line.endswith("kept")


def test_the_file_is_created_on_the_first_record_only(tmp_path):
    setup_logging(log_dir=tmp_path / "later", force=True)
    assert logging_configured()
    assert not (tmp_path / "later").exists()
    logger.patch(lambda r: r.update(name="myapp")).warning("not GlueLLM's")
    assert not (tmp_path / "later").exists()  # other libraries' records are not taken
    glog.debug("first")
    assert "first" in (tmp_path / "later" / "gluellm.log").read_text()


def test_the_console_shows_log_level_and_up_only_when_asked(tmp_path, capsys):
    setup_logging(log_dir=tmp_path, log_level="WARNING", force=True)
    glog.warning("not on the console by default")
    assert capsys.readouterr().err == ""
    setup_logging(log_dir=tmp_path, log_level="WARNING", console_output=True, force=True)
    glog.info("below the console level")
    glog.warning("on the console")
    err = capsys.readouterr().err
    assert "on the console" in err
    assert "below the console level" not in err
    assert "below the console level" in (tmp_path / "gluellm.log").read_text()  # file: DEBUG


def test_setup_without_force_keeps_the_first_configuration(tmp_path):
    setup_logging(log_dir=tmp_path / "one", force=True)
    setup_logging(log_dir=tmp_path / "two")
    glog.info("where?")
    assert (tmp_path / "one" / "gluellm.log").exists()
    assert not (tmp_path / "two").exists()


def test_no_line_contains_a_key(tmp_path):
    for as_json in ("false", "true"):
        reset_logging()
        directory = tmp_path / as_json
        configure(GLUELLM_LOG_DIR=str(directory), GLUELLM_LOG_JSON_FORMAT=as_json)
        glog.info("calling with api_key={}", FAKE_KEY)
        glog.bind(api_key=FAKE_KEY).warning("Authorization: Bearer {}", FAKE_KEY)
        try:
            raise RuntimeError(f"Incorrect API key provided: {FAKE_KEY}")
        except RuntimeError:
            glog.exception("the provider refused the key")
        text = (directory / "gluellm.log").read_text()
        assert "[REDACTED]" in text
        assert "GLUELLMFAKEKEY" not in text


def test_redaction_keeps_ordinary_text():
    assert redact_secrets("tool 'get_weather' raised ValueError: no city") == (
        "tool 'get_weather' raised ValueError: no city"
    )
    assert "abcdef" not in redact_secrets("token=abcdef123456 and xai-abcdefghijkl")


def test_records_reach_the_standard_logging_module(tmp_path, caplog):
    setup_logging(log_dir=tmp_path, force=True)
    caplog.set_level(logging.WARNING)
    with correlation_scope("cid-std"):
        glog.warning("for the stdlib {}", FAKE_KEY)
        glog.debug("below the app's level")
    [record] = [r for r in caplog.records if r.name == "gluellm.tests"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "for the stdlib [REDACTED]"
    assert record.correlation_id == "cid-std"


def _run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GLUELLM_")}
    environment.update({"GLUELLM_LOAD_PLUGINS": "", **env})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


CALL_WITH_A_FAILING_TOOL = f"""
    import asyncio
    from gluellm.api import complete
    from gluellm.testing import ScriptedTransport, override_transport, reply, tool_call

    def lookup(city: str) -> str:
        \"\"\"Look a city up.\"\"\"
        raise ValueError("upstream refused key {FAKE_KEY}")

    async def main():
        transport = ScriptedTransport(
            reply(tool_calls=[tool_call("lookup", {{"city": "Oslo"}})]), reply("Sorry.")
        )
        with override_transport(transport):
            result = await complete("Oslo?", tools=[lookup], api_key="{FAKE_KEY}")
        print(result.correlation_id)

    asyncio.run(main())
"""


def test_a_default_import_writes_nothing_to_stderr_or_disk(tmp_path):
    proc = _run("import gluellm, gluellm.api, gluellm.logging_utils; gluellm.complete", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_by_default_a_call_logs_to_the_file_and_not_to_stderr(tmp_path):
    proc = _run(CALL_WITH_A_FAILING_TOOL, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    correlation_id = proc.stdout.strip()
    text = (tmp_path / "logs" / "gluellm.log").read_text()
    [line] = [line for line in text.splitlines() if "tool 'lookup' raised ValueError" in line]
    assert f"cid={correlation_id}" in line
    assert "GLUELLMFAKEKEY" not in text


def test_disable_logging_leaves_the_apps_logging_untouched(tmp_path):
    proc = _run(CALL_WITH_A_FAILING_TOOL, tmp_path, GLUELLM_DISABLE_LOGGING="true")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "logs").exists()
    # No sink added, no handler removed: loguru's default handler (the app's) shows it.
    assert "tool 'lookup' raised ValueError" in proc.stderr


def test_env_settings_configure_the_default_setup(tmp_path):
    proc = _run(
        CALL_WITH_A_FAILING_TOOL,
        tmp_path,
        GLUELLM_LOG_DIR="custom",
        GLUELLM_LOG_FILE_NAME="mine.jsonl",
        GLUELLM_LOG_JSON_FORMAT="true",
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in (tmp_path / "custom" / "mine.jsonl").read_text().splitlines()]
    [tool_error] = [x for x in lines if "lookup" in x["message"]]
    assert tool_error["correlation_id"] == proc.stdout.strip()
    assert tool_error["levelname"] == "WARNING"


def test_log_level_sets_the_console_level(tmp_path, capsys):
    os.environ["GLUELLM_LOG_LEVEL"] = "ERROR"
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    finally:
        del os.environ["GLUELLM_LOG_LEVEL"]
    setup_logging(log_dir=tmp_path, console_output=True, settings=settings, force=True)
    glog.warning("a warning")
    glog.error("an error")
    err = capsys.readouterr().err
    assert "an error" in err
    assert "a warning" not in err


async def test_retries_are_logged_with_the_correlation_id(tmp_path):
    stamina_plugin = pytest.importorskip("gluellm_plugins_stamina.plugin")
    from gluellm.api import complete
    from gluellm.errors import RateLimitError
    from gluellm.plugins import create_plugin_manager
    from gluellm.runtime import Runtime, use_runtime
    from gluellm.testing import ScriptedTransport, override_transport, reply

    setup_logging(log_dir=tmp_path, force=True)
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(stamina_plugin, name="stamina")
    settings = Settings(_env_file=None, retry_min_wait=0, retry_max_wait=0)  # type: ignore[call-arg]
    transport = ScriptedTransport(
        RateLimitError(f"slow down, key {FAKE_KEY}", retry_after=0), reply("Done.")
    )
    runtime = Runtime(manager, settings=settings)
    with use_runtime(runtime), override_transport(transport):
        result = await complete("Hi", model="scripted:test")
    await runtime.aclose()
    assert result.final_response == "Done."
    text = (tmp_path / "gluellm.log").read_text()
    retry_lines = [line for line in text.splitlines() if "RateLimitError" in line]
    assert retry_lines
    assert all(f"cid={result.correlation_id}" in line for line in retry_lines)
    assert "GLUELLMFAKEKEY" not in text
