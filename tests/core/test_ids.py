"""Correlation and run IDs: 32 hex digits, unique per process, across forks."""

from __future__ import annotations

import os
import random
import re
import sys

import pytest

from gluellm.call import new_correlation_id
from gluellm.runs import new_run_id

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("new_id", [new_correlation_id, new_run_id])
def test_ids_are_32_hex_digits_and_unique(new_id):
    ids = [new_id() for _ in range(10_000)]
    assert all(HEX32.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_seeding_the_apps_random_does_not_repeat_correlation_ids():
    random.seed(42)
    first = new_correlation_id()
    random.seed(42)
    assert new_correlation_id() != first


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
@pytest.mark.parametrize("new_id", [new_correlation_id, new_run_id])
def test_a_forked_child_makes_ids_its_parent_never_does(new_id):
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write its next IDs and leave at once
        try:
            os.write(writer, " ".join(new_id() for _ in range(3)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as pipe:
        child = set(pipe.read().split())
    parent = {new_id() for _ in range(3)}
    assert len(child) == 3
    assert not child & parent
