"""Adds up the chunks of one streamed model turn into the turn's `ModelResponse`.

Providers stream tool calls as fragments keyed by index: the first fragment of a call
usually brings its ID and name, later ones bring pieces of the JSON arguments. Usage
usually arrives once, in the last chunk; should a provider repeat it, the last report
wins, because each report covers the whole turn.

A turn is finished only when a chunk says why it stopped (its finish reason). A stream
that ends without one was cut short: `TurnAssembler.finished` is False and the
response's ``finish_reason`` stays None; nothing is made up, so a partial answer cannot
pass for a complete one.
"""

from __future__ import annotations

import attrs

from gluellm.call import ModelResponse, StreamDelta, ToolCallRequest, Usage


@attrs.define
class _PartialToolCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = attrs.field(factory=list)


@attrs.define
class TurnAssembler:
    """Collects `StreamDelta` chunks; `response` gives the finished turn."""

    _content: list[str] = attrs.field(factory=list)
    _tool_calls: dict[int, _PartialToolCall] = attrs.field(factory=dict)
    usage: Usage | None = None
    finish_reason: str | None = None
    chunks: int = 0

    def add(self, delta: StreamDelta) -> None:
        """Fold one chunk into the turn."""
        self.chunks += 1
        if delta.content:
            self._content.append(delta.content)
        for fragment in delta.tool_calls:
            partial = self._tool_calls.setdefault(fragment.index, _PartialToolCall())
            # IDs and names normally come whole in one fragment; some providers resend
            # them on every fragment, so only the first non-empty value counts.
            if fragment.id and not partial.id:
                partial.id = fragment.id
            if fragment.name and not partial.name:
                partial.name = fragment.name
            if fragment.arguments:
                partial.arguments.append(fragment.arguments)
        if delta.usage is not None:
            self.usage = delta.usage
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason

    @property
    def finished(self) -> bool:
        """Whether a chunk said why the turn stopped; False for a stream cut short."""
        return self.finish_reason is not None

    @property
    def content(self) -> str:
        """The text streamed so far."""
        return "".join(self._content)

    def response(self, model: str | None = None) -> ModelResponse:
        """The turn as one response, tool calls in index order.

        Its ``finish_reason`` is the provider's, or None when the stream never gave one
        (see `finished`).

        Args:
            model: The model that answered, for the response's ``model`` field.
        """
        tool_calls = tuple(
            ToolCallRequest(
                id=partial.id or f"call_{index}",
                name=partial.name,
                arguments="".join(partial.arguments),
            )
            for index, partial in sorted(self._tool_calls.items())
        )
        content = self.content
        return ModelResponse(
            content=content or None,
            tool_calls=tool_calls,
            usage=self.usage,
            finish_reason=self.finish_reason,
            model=model,
        )
