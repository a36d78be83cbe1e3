"""Every hook is implemented by some test: a hook no test implements is a hook no test
checks (datasette keeps the same guard).

A test implements a hook with a ``@hookimpl``-decorated function or method named after
it (or ``@hookimpl(specname="...")``), in test code or in a plugin's source written by a
test. The whole ``tests/`` tree counts, so plugin hooks tested under ``tests/plugins``
count too.
"""

from __future__ import annotations

import re
from pathlib import Path

from gluellm import hookspecs

TESTS = Path(__file__).parents[1]

# `@hookimpl` / `@gluellm.hookimpl` / `@hookimpl(...)`, then (after other decorators) a def.
IMPLEMENTATION = re.compile(
    r"^[ \t]*@(?:\w+\.)*hookimpl\b(?P<options>\([^)]*\))?[ \t]*\n"
    r"(?:[ \t]*@.*\n)*"
    r"[ \t]*(?:async[ \t]+)?def[ \t]+(?P<name>\w+)",
    re.MULTILINE,
)
SPECNAME = re.compile(r"specname\s*=\s*['\"](\w+)['\"]")


def _hook_names() -> set[str]:
    return {name for name, obj in vars(hookspecs).items() if hasattr(obj, "gluellm_spec")}


def _implemented_in_tests() -> set[str]:
    found = set()
    for path in TESTS.rglob("*.py"):
        if path.resolve() == Path(__file__).resolve():
            continue
        for match in IMPLEMENTATION.finditer(path.read_text(encoding="utf-8")):
            specname = SPECNAME.search(match["options"] or "")
            found.add(specname.group(1) if specname else match["name"])
    return found


def test_the_scan_finds_hook_implementations():
    # A guard on the guard: the regex must see the implementations we know exist.
    assert {"register_transports", "wrap_call", "on_tool_call"} <= _implemented_in_tests()


def test_every_hook_has_a_test_that_implements_it():
    untested = sorted(_hook_names() - _implemented_in_tests())
    assert not untested, (
        f"no test implements these hooks: {', '.join(untested)}. Add a test with a "
        "@hookimpl of each (see tests/core/test_plugins.py for the shape)."
    )
