"""Every Python example in docs/costs.md runs as written and prints what the doc says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gluellm.runtime import use_runtime

from .conftest import make_runtime

DOC = Path(__file__).parents[3] / "docs" / "costs.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def printed_results(code: str) -> list[str]:
    """What the doc's ``# comment`` after each print says it prints."""
    return re.findall(r"print\(.*\)\s*#\s*(\S+)", code) + re.findall(
        r"^print\(.*\)\n# (\S+)", code, re.MULTILINE
    )


@pytest.mark.parametrize("code", blocks(), ids=lambda code: code.splitlines()[0][:40])
def test_the_example_runs_and_prints_what_the_doc_says(code, capsys):
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    with use_runtime(make_runtime()):
        exec(compile(code, str(DOC), "exec"), namespace)

    out = capsys.readouterr().out
    for expected in printed_results(code):
        assert expected in out.split()


def test_the_budget_example_stops_where_the_doc_says(capsys):
    (code,) = [c for c in blocks() if "BudgetExceededError" in c]
    with use_runtime(make_runtime()):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})

    reason, spent = capsys.readouterr().out.strip().splitlines()
    assert reason.startswith("cost $0.000420 reached the budget")
    calls, cost = spent.split()
    assert calls == "2"
    assert float(cost) == pytest.approx(0.00042, rel=1e-12)
