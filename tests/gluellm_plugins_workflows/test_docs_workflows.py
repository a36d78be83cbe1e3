"""Every example in docs/workflows.md runs, over real HTTP against the fake provider server.

The README's pattern examples are there as written; each runs after the page's block
that defines the agents they use, and the test counts the requests the server saw.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gluellm.runtime import use_runtime

from .http import Responder, http_runtime

DOC = Path(__file__).parents[2] / "docs" / "workflows.md"
SETUP = "Agents used by the examples"

# Requests each section's example makes against the fake server's answers (schema-valid
# JSON with the first valid values: booleans True, numbers at their minimum, one item
# per list; text otherwise).
EXPECTED_CALLS = {
    "Limits, budgets, cancellation, streaming": 3 + 1,
    "Agents and executors": 2,
    "Iterative refinement": 9,
    "Pipeline": 3,
    "Debate": 7,
    "Reflection": 2,
    "Chain of density": 5,
    "Socratic dialogue": 11,
    "RAG": 2,
    "Round-robin": 10,
    "Consensus": 30,
    "Hierarchical": 3,
    "MapReduce": 2,
    "ReAct": 10,
    "Mixture of experts": 1,
    "Constitutional": 2,
    "Tree of thoughts": 3,
    "Chat room": 9,
    "Writing your own pattern": 3,
}


# Of those, the decisions: requests with a JSON-schema response_format (native structured
# output over the wire, never string matching).
EXPECTED_DECISIONS = {
    "Iterative refinement": 6,
    "Reflection": 1,
    "Socratic dialogue": 5,
    "RAG": 1,
    "Consensus": 15,
    "Hierarchical": 1,
    "ReAct": 10,
    "Constitutional": 1,
    "Tree of thoughts": 2,
    "Chat room": 4,
    "Writing your own pattern": 1,
}


def sections() -> dict[str, str]:
    """``{heading: python code}`` for every ``##`` section with a python block."""
    found = {}
    for part in re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]:
        heading, _, body = part.partition("\n")
        blocks = re.findall(r"```python\n(.*?)```", body, re.DOTALL)
        if blocks:
            found[heading.strip()] = "\n".join(blocks)
    return found


async def run(code: str, namespace: dict) -> None:
    compiled = compile(code, str(DOC), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    coroutine = eval(compiled, namespace)
    if coroutine is not None:
        await coroutine


def test_every_example_is_counted():
    assert set(sections()) - {SETUP} == set(EXPECTED_CALLS)


@pytest.mark.parametrize("heading", sorted(EXPECTED_CALLS))
async def test_docs_example_over_http(heading, fake_provider_env, capsys):
    responder = Responder()
    fake_provider_env.responder = responder
    runtime = http_runtime()
    namespace: dict = {"__name__": "docs_example"}
    try:
        with use_runtime(runtime):
            await run(sections()[SETUP], namespace)
            await run(sections()[heading], namespace)
    finally:
        await runtime.aclose()
    requests = fake_provider_env.chat_requests
    assert len(requests) == EXPECTED_CALLS[heading]
    assert {r.model for r in requests} == {"gpt-4o-mini"}
    assert responder.structured == EXPECTED_DECISIONS.get(heading, 0)
    result = namespace.get("result")
    if result is not None:
        assert result.model_calls == len(requests) or heading.startswith("Limits")
        assert result.final_output
        assert not result.metadata.get("fallbacks")  # every decision arrived in shape
        assert result.tokens_used["total"] > 0
