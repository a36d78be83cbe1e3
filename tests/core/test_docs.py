"""Docs and code in step: every hook documented with its exact signature, and no more."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from gluellm import hookspecs

HOOKS_DOC = Path(__file__).parents[2] / "docs" / "plugins" / "hooks.md"
HEADING = re.compile(r"^### `(?P<name>\w+)\((?P<rest>.*)`$", re.MULTILINE)


def _spec_signatures() -> dict[str, str]:
    signatures = {}
    for name, function in vars(hookspecs).items():
        if not hasattr(function, "gluellm_spec"):
            continue
        sig = inspect.signature(function)
        params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
        signatures[name] = f"{name}({params}) -> {sig.return_annotation}"
    return signatures


def _documented() -> dict[str, str]:
    text = HOOKS_DOC.read_text()
    return {m["name"]: f"{m['name']}({m['rest']}" for m in HEADING.finditer(text)}


def test_hookspecs_exist():
    assert len(_spec_signatures()) >= 15


@pytest.mark.parametrize("name", sorted(_spec_signatures()))
def test_every_hook_is_documented_with_its_exact_signature(name):
    documented = _documented()
    assert name in documented, f"hook {name} is missing from {HOOKS_DOC}"
    assert documented[name] == _spec_signatures()[name]


def test_every_documented_hook_exists():
    assert set(_documented()) <= set(_spec_signatures())


def test_every_hookspec_has_a_docstring_with_its_params():
    for name, function in vars(hookspecs).items():
        if hasattr(function, "gluellm_spec"):
            doc = inspect.getdoc(function) or ""
            for param in inspect.signature(function).parameters:
                assert f":param {param}:" in doc, f"{name} does not document {param}"
