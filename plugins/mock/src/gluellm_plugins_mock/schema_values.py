"""Deterministic values that validate against a JSON schema (pydantic's dialect)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def value_for_schema(schema: Mapping[str, Any], name: str = "value") -> Any:
    """A value valid for ``schema``; ``name`` seeds readable strings.

    Handles ``$ref``/``$defs``, ``anyOf``/``oneOf``/``allOf`` (first branch), ``enum``,
    ``const``, defaults, numeric bounds, string lengths and formats, arrays and objects
    (required properties only).
    """
    return _Generator(schema).value(schema, name)


class _Generator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.defs: Mapping[str, Any] = root.get("$defs", root.get("definitions", {}))

    def value(self, schema: Mapping[str, Any], name: str) -> Any:
        if "$ref" in schema:
            return self.value(self._resolve(schema), name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                branches = [b for b in schema[combinator] if b.get("type") != "null"]
                return self.value((branches or schema[combinator])[0], name)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(
                    self.defs[part["$ref"].rsplit("/", 1)[-1]] if "$ref" in part else part
                )
            return self.value(merged, name)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        return getattr(self, f"_{kind}")(schema, name)

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        if "$ref" not in schema:
            return schema
        return self._resolve(self.defs[schema["$ref"].rsplit("/", 1)[-1]])

    def _string(self, schema: Mapping[str, Any], name: str) -> str:
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        text = f"test {name}".replace("_", " ")
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        text = text.ljust(low, "x")
        return text[:high] if high is not None else text

    def _integer(self, schema: Mapping[str, Any], name: str) -> int:
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        return max(int(low), 0) if schema.get("maximum", 1) >= 0 else int(schema["maximum"])

    def _number(self, schema: Mapping[str, Any], name: str) -> float:
        return float(self._integer(schema, name))

    def _boolean(self, schema: Mapping[str, Any], name: str) -> bool:
        return True

    def _null(self, schema: Mapping[str, Any], name: str) -> None:
        return None

    def _array(self, schema: Mapping[str, Any], name: str) -> list[Any]:
        items = schema.get("items", {})
        count = max(schema.get("minItems", 1), 1)
        if schema.get("maxItems") is not None:
            count = min(count, schema["maxItems"])
        return [self.value(items, name) for _ in range(count)]

    def _object(self, schema: Mapping[str, Any], name: str) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        return {key: self.value(properties.get(key, {}), key) for key in required}
