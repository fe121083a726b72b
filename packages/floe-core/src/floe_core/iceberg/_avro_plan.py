"""Plans for the C accelerator (``floe_speedups._avro``): a writer schema and a projection as
nested tuples of opcodes, which the C decoder follows instead of generated Python.

A plan is ``(opcode, *arguments)``. Reading: ``NULL``, ``BOOLEAN``, ``LONG`` (Avro int and
long), ``FLOAT``, ``DOUBLE``, ``BYTES``, ``STRING``, ``(FIXED, size)``, ``(ENUM, symbols)``,
``(UNION, branches)``, ``(RECORD, ((field_id or None, plan), ...))`` (None: skip that plan),
``(ARRAY, item)``, ``(MAP, value)``, ``(PAIRS, key, value)`` (Iceberg's maps with non-string
keys). Skipping: ``(SKIP_VARINTS, n)``, ``SKIP_BYTES``, ``(SKIP_FIXED, size)``,
``(SKIP_UNION, branches)``, ``(SKIP_RECORD, plans)``, ``(SKIP_BLOCKS, item)``.
``PLAN_VERSION`` names this format; the C module says which one it follows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from floe_core.iceberg._avro_schema import (
    AvroError,
    Projection,
    SchemaTypes,
    field_id,
    kind,
)

NULL, BOOLEAN, LONG, FLOAT, DOUBLE, BYTES, STRING = 0, 1, 2, 3, 4, 5, 6
FIXED, ENUM, UNION, RECORD, ARRAY, MAP, PAIRS = 7, 8, 9, 10, 11, 12, 13
SKIP_VARINTS, SKIP_BYTES, SKIP_FIXED, SKIP_UNION, SKIP_RECORD, SKIP_BLOCKS = 20, 21, 22, 23, 24, 25

Plan = tuple[Any, ...]
_PRIMITIVES = {
    "null": (NULL,),
    "boolean": (BOOLEAN,),
    "int": (LONG,),
    "long": (LONG,),
    "float": (FLOAT,),
    "double": (DOUBLE,),
    "bytes": (BYTES,),
    "string": (STRING,),
}
_SIZES = {"float": 4, "double": 8}


class Unplannable(Exception):
    """The schema has no plan (a recursive type): floe's generated Python reads it."""


def plan_reader(schema: Any, projection: Projection | None) -> Plan:
    """The plan decoding values of the parsed writer ``schema`` with ``projection``'s fields."""
    return _Planner().read(schema, projection)


class _Planner(SchemaTypes):
    def __init__(self) -> None:
        super().__init__()
        self.open: set[int] = set()  # records being planned: met again, they recurse

    def read(self, schema: Any, projection: Projection | None) -> Plan:
        schema = self.resolve(schema)
        found = kind(schema)
        if isinstance(schema, str) and schema in _PRIMITIVES:
            return _PRIMITIVES[schema]
        if found == "fixed":
            return (FIXED, int(schema["size"]))
        if found == "enum":
            return (ENUM, tuple(str(symbol) for symbol in schema["symbols"]))
        if found == "union":
            return (UNION, tuple(self.read(branch, projection) for branch in schema))
        if found == "record":
            return self.record(schema, projection)
        if found == "array":
            pair = self.key_value(schema)
            if pair is not None:
                return (PAIRS, self.read(pair[0], None), self.read(pair[1], None))
            return (ARRAY, self.read(schema["items"], projection))
        if found == "map":
            return (MAP, self.read(schema["values"], projection))
        raise AvroError(f"unsupported Avro type {schema!r} in a projected field")

    def record(self, schema: Any, projection: Projection | None) -> Plan:
        with self.entered(schema):
            fields: list[tuple[int | None, Plan]] = []
            pending = 0  # skipped varints not yet added
            for position, field in enumerate(schema["fields"]):
                number = field_id(field, position)
                if projection is not None and number not in projection:
                    count = self.varints(field["type"])
                    if count is not None:
                        pending += count
                        continue
                    if pending:
                        fields.append((None, (SKIP_VARINTS, pending)))
                        pending = 0
                    fields.append((None, self.skip(field["type"])))
                    continue
                if pending:
                    fields.append((None, (SKIP_VARINTS, pending)))
                    pending = 0
                nested = None if projection is None else projection[number]
                fields.append((number, self.read(field["type"], nested)))
            if pending:
                fields.append((None, (SKIP_VARINTS, pending)))
            return (RECORD, tuple(fields))

    def skip(self, schema: Any) -> Plan:
        schema = self.resolve(schema)
        found = kind(schema)
        count = self.varints(schema)
        if count is not None:
            return (SKIP_VARINTS, count)
        if schema in ("string", "bytes"):
            return (SKIP_BYTES,)
        if isinstance(schema, str) and schema in _SIZES:
            return (SKIP_FIXED, _SIZES[schema])
        if found == "fixed":
            return (SKIP_FIXED, int(schema["size"]))
        if found == "union":
            return (SKIP_UNION, tuple(self.skip(branch) for branch in schema))
        if found == "record":
            with self.entered(schema):
                return (SKIP_RECORD, tuple(self.skip(f["type"]) for f in schema["fields"]))
        if found == "array":
            return (SKIP_BLOCKS, self.skip(schema["items"]))
        if found == "map":
            return (SKIP_BLOCKS, (SKIP_RECORD, ((SKIP_BYTES,), self.skip(schema["values"]))))
        raise AvroError(f"unsupported Avro type {schema!r}")

    @contextlib.contextmanager
    def entered(self, schema: Any) -> Iterator[None]:
        """Marks a record as being planned; entering it again means the schema recurses."""
        if id(schema) in self.open:
            raise Unplannable("the schema is recursive")
        self.open.add(id(schema))
        try:
            yield
        finally:
            self.open.discard(id(schema))
