"""docs/cli.md stays true: every command it shows runs offline, and every command is in it.

Each line of a ``bash`` block runs in a shell, in a temporary folder, on the test model,
and must exit 0; a block preceded by ``<!-- not-run: reason -->`` is skipped and must
say why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gluellm.cli import build_app
from gluellm.cli.placeholders import registered_names

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cli.md"
BLOCK = re.compile(
    r"(?P<marker><!-- not-run: (?P<reason>[^>]*?) -->\s*\n)?```bash\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)


def _blocks() -> list[tuple[str | None, list[str]]]:
    text = PAGE.read_text()
    return [
        (m["reason"], [line for line in m["body"].splitlines() if line.strip()])
        for m in BLOCK.finditer(text)
    ]


RUN_LINES = [line for reason, lines in _blocks() if reason is None for line in lines]


def test_the_page_has_runnable_and_skipped_blocks_with_reasons() -> None:
    blocks = _blocks()
    assert len(RUN_LINES) >= 40
    skipped = [reason for reason, _ in blocks if reason is not None]
    assert skipped
    assert all(reason.strip() for reason in skipped)


def test_every_command_is_documented() -> None:
    text = PAGE.read_text()
    names = registered_names(build_app())
    undocumented = sorted(name for name in names if f"gluellm {name}" not in text)
    assert undocumented == []


@pytest.mark.parametrize("line", RUN_LINES)
def test_documented_command_runs_offline(line: str, tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GLUELLM_DEFAULT_MODEL": "test:demo",
        "GLUELLM_LOG_DIR": str(tmp_path / "logs"),
        "GLUELLM_EXAMPLE_DIR": str(tmp_path),
        "GLUELLM_EXAMPLES_DIR": str(ROOT / "examples"),
    }
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip()
