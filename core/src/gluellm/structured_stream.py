"""Streamed structured output: partial instances of the response model as fields fill in.

The answer's JSON is parsed leniently while it streams (``pydantic_core.from_json`` with
``allow_partial``: unfinished strings are kept as far as they got, unfinished values are
dropped). Each field that already validates is kept; nested models are filled the same
way; a field that has not arrived or does not validate yet is None. Partial instances
are built with ``model_construct`` (no validation, so a missing required field is not
an error), and their ``model_fields_set`` names the fields that have arrived. The last
item of the stream is the fully validated instance from the tool loop, with the run's
metadata attached as on `structured_complete`'s result.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, TypeVar

import pydantic
import pydantic_core

from gluellm.results import attach_run_metadata
from gluellm.streaming import StreamChunk

M = TypeVar("M", bound=pydantic.BaseModel)

_MISSING: Any = object()
"""A value that is not (yet) usable: the field stays unset in the partial instance."""

_TRAILING_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]*)?$")

_adapters: dict[Any, pydantic.TypeAdapter[Any]] = {}


async def stream_structured(
    chunks: AsyncIterator[StreamChunk], response_format: type[M]
) -> AsyncGenerator[M, None]:
    """Turn a `stream_tool_loop` stream into partial instances, then the validated one.

    A partial instance is yielded whenever the parsed JSON has changed. A turn's text
    streams before the turn reveals whether it calls tools, so a tool turn that writes
    JSON-like text can yield partials; the next turn (after tools or a re-ask) starts
    afresh, and the last instance always comes from the answering turn.

    Args:
        chunks: The streaming tool loop's chunks; the caller closes them.
        response_format: The model the answer must validate against.

    Yields:
        Partial ``response_format`` instances, then the validated instance.
    """
    text: list[str] = []
    turn = -1
    last: Any = _MISSING
    async for chunk in chunks:
        if chunk.kind == "content":
            if chunk.turn != turn:
                text, turn, last = [], chunk.turn, _MISSING
            text.append(chunk.content)
            data = parse_partial_json("".join(text))
            if isinstance(data, dict) and data and data != last:
                last = data
                yield partial_instance(response_format, data)
        elif chunk.done and chunk.result is not None:
            instance: M = chunk.result.structured_output
            attach_run_metadata(instance, chunk.result)
            yield instance


def parse_partial_json(text: str) -> Any:
    """Parse the JSON an answer has streamed so far; None when nothing parses yet.

    Tolerates a Markdown code fence around the JSON, as the final validation does.
    """
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    body = text[start:]
    fence = body.find("```")
    if fence >= 0:
        body = body[:fence]
    if body[-1:].isdigit():
        # A number at the very end may still grow ("12" of "1234"): drop it until it
        # ends. (Inside an unfinished string this only holds back its last digits.)
        body = _TRAILING_NUMBER.sub("", body)
    try:
        return pydantic_core.from_json(body, allow_partial="trailing-strings")
    except ValueError:
        return None


def partial_instance(model: type[M], data: Mapping[str, Any]) -> M:
    """A ``model`` instance holding every field of ``data`` that validates on its own.

    Fields not in ``data`` (or not valid yet) get their default, or None when required.
    """
    values: dict[str, Any] = {}
    present: set[str] = set()
    for name, field in model.model_fields.items():
        key = _input_key(name, field)
        value = _partial_value(field.annotation, data[key]) if key in data else _MISSING
        if value is _MISSING:
            values[name] = (
                None
                if field.is_required()
                else field.get_default(call_default_factory=True, validated_data=values)
            )
        else:
            values[name] = value
            present.add(name)
    return model.model_construct(_fields_set=present, **values)


def _input_key(name: str, field: pydantic.fields.FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    return field.alias or name


def _partial_value(annotation: Any, value: Any) -> Any:
    """``value`` validated as ``annotation``; else its valid parts; else ``_MISSING``."""
    try:
        return _adapter(annotation).validate_python(value)
    except (pydantic.ValidationError, TypeError):
        pass
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _partial_value(args[0], value)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                candidate = _partial_value(arg, value)
                if candidate is not _MISSING:
                    return candidate
        return _MISSING
    if isinstance(value, dict):
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            return partial_instance(annotation, value)
        if origin in (dict, Mapping, typing.Mapping) and len(args) == 2:
            items = {k: _partial_value(args[1], v) for k, v in value.items()}
            return {k: v for k, v in items.items() if v is not _MISSING}
    if isinstance(value, list) and origin in (list, tuple, set, frozenset) and args:
        elements = [_partial_value(args[0], v) for v in value]
        return [e for e in elements if e is not _MISSING]
    return _MISSING


def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    # Building an adapter costs far more than validating with it: keep one per type.
    try:
        adapter = _adapters.get(annotation)
    except TypeError:  # an unhashable annotation: build it each time
        return pydantic.TypeAdapter(annotation)
    if adapter is None:
        adapter = _adapters[annotation] = pydantic.TypeAdapter(annotation)
    return adapter
