"""gluellm.logging_utils: decorators and timers log calls, results, time and failures."""

from __future__ import annotations

import asyncio
import os
import re
import textwrap
from pathlib import Path

import pytest
from loguru import logger

from gluellm.logging_config import reset_logging
from gluellm.logging_utils import (
    get_logger,
    log_async_function_call,
    log_function_call,
    log_operation,
    log_timing,
)

DOC = Path(__file__).parents[2] / "docs" / "logging.md"


@pytest.fixture
def records():
    found: list = []
    handler_id = logger.add(lambda message: found.append(message.record), level="DEBUG")
    yield found
    logger.remove(handler_id)


def messages(records):
    return [r["message"] for r in records]


def test_log_function_call_logs_arguments_result_and_time(records):
    @log_function_call(log_args=True, log_result=True)
    def add(x: int, y: int, api_key: str = "") -> int:
        return x + y

    assert add(1, 2, api_key="sk-proj-FAKEKEY1234567890") == 3
    calling, returned = messages(records)
    assert calling.startswith("calling ")
    assert "add(x=1, y=2, api_key='[REDACTED]')" in calling
    assert re.search(r"add returned 3 in \d+\.\d{3}s", returned)
    assert {r["level"].name for r in records} == {"DEBUG"}
    assert records[0]["name"] == __name__  # the caller's module, not logging_utils


def test_log_function_call_hides_arguments_unless_asked_and_logs_failures(records):
    @log_function_call(level="INFO")
    def fail(secret: str) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        fail("hidden-value")
    calling, failed = records
    assert "hidden-value" not in calling["message"]
    assert calling["level"].name == "INFO"
    assert failed["level"].name == "ERROR"
    assert "raised KeyError" in failed["message"]


async def test_log_async_function_call(records):
    @log_async_function_call(log_args=True, log_result=True)
    async def my_function(x: int, y: int) -> int:
        await asyncio.sleep(0)
        return x + y

    assert await my_function(2, 3) == 5
    assert "my_function(x=2, y=3)" in messages(records)[0]
    assert "returned 5" in messages(records)[1]


def test_log_timing_logs_the_elapsed_time(records):
    with log_timing("database_query"):
        pass
    [record] = records
    assert re.fullmatch(r"database_query took \d+\.\d{3}s", record["message"])
    assert record["extra"]["elapsed_s"] >= 0
    assert record["level"].name == "INFO"


def test_log_operation_logs_start_end_and_failure(records):
    with log_operation("file_processing"):
        pass
    with pytest.raises(OSError, match="disk full"), log_operation("upload", level="DEBUG"):
        raise OSError("disk full")
    started, finished, up_started, up_failed = records
    assert started["message"] == "file_processing started"
    assert finished["message"].startswith("file_processing finished in")
    assert up_started["level"].name == "DEBUG"
    assert up_failed["level"].name == "ERROR"
    assert "upload failed after" in up_failed["message"]
    assert "OSError: disk full" in up_failed["message"]


def test_get_logger_binds_the_name(records):
    get_logger("my.module").info("Custom log message")
    [record] = records
    assert record["extra"]["logger"] == "my.module"
    assert record["message"] == "Custom log message"


def test_the_utilities_example_from_the_logging_doc_runs(records):
    section = DOC.read_text().split("## Logging utilities", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)

    class Db:
        async def query(self, *args):
            return ["row"]

    processed = []
    namespace = {"db": Db(), "process_file": processed.append}
    exec(
        "async def example():\n"
        + textwrap.indent(code, "    ")
        + "\n    return result, my_function",
        namespace,
    )
    result, my_function = asyncio.run(namespace["example"]())
    assert result == ["row"]
    assert processed == [Ellipsis]
    assert asyncio.run(my_function(1, 2)) == 3
    found = messages(records)
    assert any(m.startswith("database_query took") for m in found)
    assert "file_processing started" in found
    assert "Custom log message" in found
    assert any("my_function(x=1, y=2)" in m for m in found)


def test_the_programmatic_setup_example_from_the_logging_doc_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    section = DOC.read_text().split("Or configure programmatically:", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    reset_logging()
    try:
        exec(code, {})
        logger.patch(lambda r: r.update(name="gluellm.example")).info("configured")
        assert "configured" in capsys.readouterr().err  # console_output=True
        assert "configured" in (tmp_path / "logs" / "gluellm.log").read_text()
    finally:
        reset_logging()


def test_the_default_behaviour_example_imports(tmp_path):
    section = DOC.read_text().split("**Minimal impact (the default).**", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(code, namespace)
    assert callable(namespace["complete"])
    assert not os.path.exists(tmp_path / "logs")
