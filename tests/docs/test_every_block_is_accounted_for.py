"""Every Python block of the docs is either run by a test or marked not runnable, with why.

Scans README.md and every docs/**/*.md page, with the files the site includes into a
page (``--8<-- "path"`` snippets, such as the plugins' READMEs) expanded as the site
shows them. A ```` ```python ```` block is accounted for when

- the line before it is ``<!-- not-run: reason -->`` with a reason, or
- `COVERAGE` names a test module that runs it: either every block of the page
  (`Whole`), or the first block after an anchor text (`FirstAfter`), as the module
  extracts it.

Each claim is checked against the module's source: it must exist, name the page's file
and contain the anchor it is said to use. A new page or block with neither fails here,
naming the page, the block's line and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)
BLOCK = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*$", re.MULTILINE)
MARKER = re.compile(r"<!-- not-run: (?P<reason>[^>]*?) -->\s*$")


@dataclass(frozen=True)
class Whole:
    """``module`` runs every block of the page not marked not-run."""

    module: str


@dataclass(frozen=True)
class FirstAfter:
    """``module`` runs the first Python block after the first occurrence of ``anchor``."""

    module: str
    anchor: str


GUIDE = "tests/docs/test_guide_pages.py"
COVERAGE: dict[str, list[Whole | FirstAfter]] = {
    "README.md": [Whole("tests/docs/test_doc_examples.py")],
    "docs/streaming.md": [Whole("tests/docs/test_doc_examples.py")],
    "docs/plugins/hooks.md": [Whole("tests/docs/test_doc_examples.py"), Whole(GUIDE)],
    "docs/eval.md": [Whole("tests/gluellm_plugins_eval/test_docs_eval.py")],
    "docs/workflows.md": [Whole("tests/gluellm_plugins_workflows/test_docs_workflows.py")],
    "docs/embeddings.md": [Whole("tests/plugins/anyllm/test_embeddings_docs.py")],
    "docs/batch.md": [Whole("tests/plugins/batch/test_docs_batch.py")],
    "docs/costs.md": [Whole("tests/plugins/prices/test_costs_docs.py")],
    "docs/performance.md": [Whole("tests/plugins/openai_http/test_docs.py")],
    # The guide's blocks are the example project's files, compared byte for byte with
    # the project that the same module installs and tests.
    "docs/plugins/writing.md": [Whole("tests/docs/test_plugin_guide.py")],
    "docs/telemetry.md": [
        FirstAfter("tests/gluellm_plugins_telemetry/test_docs_examples.py", "## Usage"),
        FirstAfter(
            "tests/gluellm_plugins_telemetry/test_docs_examples.py",
            "### Example with tool tracing",
        ),
        FirstAfter(
            "tests/gluellm_plugins_telemetry/test_docs_examples.py", "### Custom span attributes"
        ),
        FirstAfter("tests/gluellm_plugins_telemetry/test_docs_examples.py", "## MLflow metrics"),
    ],
    "docs/logging.md": [
        FirstAfter("tests/core/test_logging_utils.py", "## Logging utilities"),
        FirstAfter("tests/core/test_logging_utils.py", "Or configure programmatically:"),
        FirstAfter("tests/core/test_logging_utils.py", "**Minimal impact (the default).**"),
    ],
    "docs/testing.md": [
        FirstAfter(GUIDE, "## Scripted replies"),
        FirstAfter(
            "tests/plugins/test_docs_examples.py", "## Over real HTTP: the fake provider server"
        ),
        FirstAfter(
            "tests/plugins/anyllm/test_embeddings_docs.py", "## Embeddings on the fake server"
        ),
        FirstAfter("tests/plugins/openai_http/test_docs.py", "## Checking a transport"),
    ],
    "docs/index.md": [Whole(GUIDE)],
    "docs/providers.md": [Whole(GUIDE)],
    "docs/conversations.md": [Whole(GUIDE)],
    "docs/tools.md": [Whole(GUIDE)],
    "docs/structured-output.md": [Whole(GUIDE)],
    "docs/rate-limits.md": [Whole(GUIDE)],
    "docs/retries.md": [Whole(GUIDE)],
    "docs/differences.md": [Whole(GUIDE)],
    "docs/plugins/transport.md": [Whole(GUIDE)],
    "docs/reference/readmes/aiolimiter.md": [Whole(GUIDE)],
}


def pages() -> list[str]:
    found = ["README.md"]
    found += sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "docs").rglob("*.md")
        # docs/examples/ holds the plugin guide's example project, not pages of the site.
        if "examples" not in path.relative_to(ROOT / "docs").parts[:1]
    )
    return found


def page_text(page: str) -> str:
    """The page as the site shows it: snippet includes replaced by the included files."""
    text = (ROOT / page).read_text()
    return SNIPPET.sub(lambda m: (ROOT / m["path"]).read_text(), text)


@dataclass(frozen=True)
class Block:
    line: int
    start: int  # offset in the page text
    reason: str | None


def python_blocks(text: str) -> list[Block]:
    found = []
    for match in BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        found.append(
            Block(
                line=text.count("\n", 0, match.start()) + 1,
                start=match.start(),
                reason=marker["reason"].strip() if marker else None,
            )
        )
    return found


def covered_starts(page: str, text: str, blocks: list[Block]) -> set[int] | None:
    """Offsets of the blocks some test runs; None when a test runs the whole page."""
    starts: set[int] = set()
    for claim in COVERAGE.get(page, []):
        if isinstance(claim, Whole):
            return None
        position = text.find(claim.anchor)
        later = [block.start for block in blocks if block.start > position >= 0]
        if later:
            starts.add(later[0])
    return starts


@pytest.mark.parametrize("page", pages())
def test_every_python_block_is_run_or_says_why_not(page):
    text = page_text(page)
    blocks = python_blocks(text)
    covered = covered_starts(page, text, blocks)
    for block in blocks:
        if block.reason is not None:
            assert len(block.reason) > 10, f"{page}:{block.line}: say why it is not run"
            continue
        assert covered is None or block.start in covered, (
            f"{page}:{block.line}: this Python block is run by no test. Run it from a test "
            f"(and list the test in COVERAGE of {Path(__file__).name}), or mark it "
            "<!-- not-run: reason --> on the line before."
        )


@pytest.mark.parametrize("page", sorted(COVERAGE))
def test_each_coverage_claim_is_true_of_its_test_module(page):
    assert (ROOT / page).exists(), f"{page} is gone: remove it from COVERAGE"
    text = page_text(page)
    blocks = python_blocks(text)
    assert any(block.reason is None for block in blocks), f"{page} has nothing to run"
    for claim in COVERAGE[page]:
        source_path = ROOT / claim.module
        assert source_path.exists(), f"{claim.module} (said to run {page}) does not exist"
        source = source_path.read_text()
        name = Path(page).name
        assert name in source or page in source, f"{claim.module} never reads {page}"
        if isinstance(claim, FirstAfter):
            assert claim.anchor in source, f"{claim.module} does not use {claim.anchor!r}"
            assert claim.anchor in text, f"{page} no longer has {claim.anchor!r}"
            position = text.find(claim.anchor)
            assert any(b.start > position for b in blocks), f"no block after {claim.anchor!r}"


def test_the_scanner_finds_unaccounted_blocks(tmp_path):
    """The check itself can fail: an unmarked block on an uncovered page is reported."""
    page = tmp_path / "docs" / "new.md"
    page.parent.mkdir()
    page.write_text(
        "# New\n\n<!-- not-run: needs a real OpenAI key -->\n```python\nok()\n```\n\n"
        "```python\nforgotten()\n```\n"
    )
    blocks = python_blocks(page.read_text())
    assert [block.reason for block in blocks] == ["needs a real OpenAI key", None]
    assert blocks[1].line == 8
    assert covered_starts("docs/new.md", page.read_text(), blocks) == set()


def test_snippets_are_expanded_as_the_site_shows_them():
    text = page_text("docs/reference/readmes/aiolimiter.md")
    assert text.strip() == (ROOT / "plugins/aiolimiter/README.md").read_text().strip()
    assert len(python_blocks(text)) == 2
