"""Small text helpers the patterns share when building prompts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def transcript(turns: Iterable[tuple[str, str]]) -> str:
    """``speaker: text`` blocks separated by blank lines."""
    return "\n\n".join(f"{speaker}: {text}" for speaker, text in turns)


def numbered(items: Sequence[str]) -> str:
    """``[1] first`` ... one item per block."""
    return "\n\n".join(f"[{index}] {item}" for index, item in enumerate(items, 1))


def bullets(items: Iterable[str]) -> str:
    """``- item`` lines."""
    return "\n".join(f"- {item}" for item in items)
