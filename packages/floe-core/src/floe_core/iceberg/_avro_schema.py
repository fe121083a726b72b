"""What floe's Avro readers need to know of a writer schema: named types, fixed-size values,
optional fields and Iceberg's maps by field id. Shared by the generated Python readers
(``_avro_compile``) and the plans the C accelerator follows (``_avro_plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

#: Which fields of a record to decode, by Iceberg field id: ``None`` decodes the whole value,
#: a nested ``Projection`` decodes only those fields of a record-valued field.
Projection = Mapping[int, "Projection | None"]

NAMED = ("record", "error", "enum", "fixed")


class AvroError(ValueError):
    """The file is not an Avro container this reader understands, or it is damaged."""


class SchemaTypes:
    """The types of one writer schema; named types are resolved as they are met."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}

    def resolve(self, schema: Any) -> Any:
        """A named type's definition, a primitive's name; anything else as it is."""
        if isinstance(schema, str) and schema in self.names:
            return self.names[schema]
        if isinstance(schema, dict):
            kind = schema.get("type")
            if kind in NAMED and "name" in schema:
                self.names[schema["name"]] = schema
                if schema.get("namespace"):
                    self.names[f"{schema['namespace']}.{schema['name']}"] = schema
            if kind not in (*NAMED, "array", "map"):
                return self.resolve(kind)  # a primitive with attributes
        return schema

    def varints(self, schema: Any) -> int | None:
        """How many varints encode every value of ``schema``, if always the same number."""
        schema = self.resolve(schema)
        if schema in ("int", "long", "boolean") or kind(schema) == "enum":
            return 1  # a boolean's byte reads as a varint
        if schema == "null":
            return 0
        if kind(schema) == "record":
            total = 0
            for field in schema["fields"]:
                count = self.varints(field["type"])
                if count is None:
                    return None
                total += count
            return total
        return None

    def optional(self, schema: list[Any]) -> tuple[int, Any] | None:
        """The position of null and the other type, in a union of null and one type."""
        if len(schema) != 2 or "null" not in schema:
            return None
        null = schema.index("null")
        return null, schema[1 - null]

    def key_value(self, schema: Any) -> tuple[Any, Any] | None:
        """The key and value types of an array that is Iceberg's encoding of a map."""
        items = self.resolve(schema["items"])
        if schema.get("logicalType") != "map" or kind(items) != "record":
            return None
        fields = items["fields"]
        if [f.get("name") for f in fields] != ["key", "value"]:
            return None
        return fields[0]["type"], fields[1]["type"]

    def by_field_id(self, schema: Any) -> Literal["counts", "bounds"] | None:
        """Which of Iceberg's maps by field id an array is: counts (int to long), bounds (int
        to bytes), or neither."""
        pair = self.key_value(schema)
        if pair is None:
            return None
        key, value = (self.resolve(t) for t in pair)
        if key in ("int", "long") and value in ("int", "long"):
            return "counts"  # value counts, null counts, column sizes
        if key in ("int", "long") and value == "bytes":
            return "bounds"  # lower and upper bounds
        return None


def kind(schema: Any) -> str | None:
    """``union``, ``record`` (errors too), ``array``, ... for a complex type; None otherwise."""
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        found = schema.get("type")
        return "record" if found == "error" else found
    return None


def field_id(field: Mapping[str, Any], position: int) -> int:
    """The field's Iceberg id; fields without one get a negative id from their position."""
    found = field.get("field-id", field.get("field_id"))
    return int(found) if found is not None else -1 - position
