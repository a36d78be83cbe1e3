"""The offline test model: deterministic answers, real tool calls, valid structured output.

On a user message with tools offered it calls every tool once with schema-valid
arguments; after tool results it summarizes them; asked for structured output it
returns JSON that validates against the schema. Usage is counted in words. Asked to
stream, it streams the same answer word by word, tool calls as fragments, usage last.
Asked to embed, it returns `gluellm.testing.fake_embedding` vectors: equal texts give
equal unit vectors, of ``dimensions`` entries when the call asks (else 8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gluellm.call import (
    EMBEDDING_BATCH_LIMIT,
    Message,
    ModelCall,
    ModelResponse,
    ToolCallRequest,
    Usage,
)
from gluellm.testing import fake_embedding, streamed
from gluellm_plugins_mock.schema_values import value_for_schema


def _words(messages: Sequence[Message]) -> int:
    return sum(len(str(m.get("content") or "").split()) for m in messages)


class TestModelTransport:
    """Answers ``test:*`` models without a network."""

    __test__ = False  # not a pytest test class

    embed_batch_limit = EMBEDDING_BATCH_LIMIT
    embedding_dimension = 8

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, call: ModelCall) -> ModelResponse:
        """Answer ``call`` deterministically."""
        self.calls += 1
        messages = list(call.messages)
        last = messages[-1] if messages else {"role": "user", "content": ""}
        if call.tools and last.get("role") == "user":
            response = self._call_tools(call.tools, len(messages))
        elif call.response_format is not None:
            schema = call.response_format.model_json_schema()
            response = ModelResponse(content=json.dumps(value_for_schema(schema)))
        else:
            response = ModelResponse(content=self._text(messages))
        completion = len((response.content or "").split()) + len(response.tool_calls)
        prompt = _words(messages)
        answer = ModelResponse(
            content=response.content,
            tool_calls=response.tool_calls,
            usage=Usage(prompt, completion, prompt + completion),
            finish_reason="tool_calls" if response.tool_calls else "stop",
            model=call.model_name,
        )
        return streamed(answer) if call.stream else answer

    async def embed(self, call: ModelCall) -> ModelResponse:
        """Embed ``call.input`` deterministically; usage is one token per word."""
        self.calls += 1
        dimension = call.options.get("dimensions")
        if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension < 1:
            dimension = self.embedding_dimension
        tokens = sum(len(text.split()) for text in call.input)
        return ModelResponse(
            embeddings=tuple(fake_embedding(text, dimension) for text in call.input),
            usage=Usage(tokens, 0, tokens),
            model=call.model_name,
        )

    async def aclose(self) -> None:
        """Nothing to release."""

    @staticmethod
    def _call_tools(tools: Sequence[Mapping[str, Any]], turn: int) -> ModelResponse:
        calls = []
        for index, tool in enumerate(tools):
            function = tool["function"]
            arguments = value_for_schema(function.get("parameters", {}), function["name"])
            calls.append(
                ToolCallRequest(
                    id=f"test_call_{turn}_{index}",
                    name=function["name"],
                    arguments=json.dumps(arguments),
                )
            )
        return ModelResponse(tool_calls=tuple(calls))

    @staticmethod
    def _text(messages: Sequence[Message]) -> str:
        tool_results = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            tool_results.append(str(message.get("content")))
        if tool_results:
            return "Tool results: " + "; ".join(reversed(tool_results))
        users = [str(m.get("content")) for m in messages if m.get("role") == "user"]
        answer = f"(test model) You said: {users[-1] if users else ''!r}."
        if len(users) > 1:
            answer += f" Earlier you said: {users[0]!r}."
        return answer
