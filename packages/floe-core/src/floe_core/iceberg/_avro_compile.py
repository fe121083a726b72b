"""Compile the reader of an Avro writer schema and a projection into straight-line Python.

Each record type becomes one generated function that decodes its projected fields and skips
the others, one statement per field: primitives read in place, optional fields (a union of
null and one type, as Iceberg writes them) through one helper call, other unions as ``if``
chains, runs of skipped varints (ints, longs, enums, booleans) as one ``read_ints``. Loops
over array and map items run in plain helpers, Iceberg's maps by field id (counts, bounds)
in helpers of their own. Only the decoder's primitives are called (pyiceberg's compiled
decoder where it ships), and every length taken from the data is checked against the end of
the buffer before its bytes are read. The generated source holds only names and integers
floe chose; every value taken from the schema (enum symbols) is a constant bound in the
functions' namespace, never text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from floe_core.iceberg._avro_helpers import (
    _PRIMITIVE_READERS,
    Read,
    _dict,
    _enum,
    _fixed,
    _int_bytes_pairs,
    _list,
    _no_branch,
    _optional,
    _past_end,
    _skip_blocks,
    _skip_bytes,
    _skip_int_bytes_pairs,
    _skip_map,
    _skip_optional,
    _skip_optional_varints,
    _varint_blocks,
    read_int_pairs,
)
from floe_core.iceberg._avro_schema import AvroError, Projection, SchemaTypes
from floe_core.iceberg._avro_schema import field_id as _field_id
from floe_core.iceberg._avro_schema import kind as _kind


def compile_reader(schema: Any, projection: Projection | None) -> Read:
    """The reader of values of the parsed writer ``schema``, decoding only ``projection``."""
    return _Compiler().compile(schema, projection)


class _Compiler(SchemaTypes):
    """Generates the functions of one writer schema; named types are resolved as met.

    Generated code is straight-line: a record's fields one after the other, unions as ``if``
    chains. Loops over array and map items run in ``_avro_helpers``, so the generated source
    stays short (Python compiles it at about 6 us a line) and nests at most a few levels.
    """

    def __init__(self) -> None:
        super().__init__()
        self.namespace: dict[str, Any] = {
            "_past_end": _past_end,
            "_no_branch": _no_branch,
            "_skip_bytes": _skip_bytes,
            "_skip_blocks": _skip_blocks,
            "_skip_map": _skip_map,
            "_list": _list,
            "_dict": _dict,
            "_int_bytes_pairs": _int_bytes_pairs,
            "_skip_int_bytes_pairs": _skip_int_bytes_pairs,
            "_read_int_pairs": read_int_pairs,
            "_optional": _optional,
            "_skip_optional": _skip_optional,
            "_skip_optional_varints": _skip_optional_varints,
            **{f"_read_{name}": read for name, read in _PRIMITIVE_READERS.items()},
        }
        self.functions: list[str] = []
        self.readers: dict[tuple[int, int], str] = {}
        self.skippers: dict[int, str] = {}
        self.count = 0

    def compile(self, schema: Any, projection: Projection | None) -> Read:
        name = self.value(schema, projection)
        exec("\n\n".join(self.functions), self.namespace)  # source made of our own templates
        read: Read = self.namespace[name]
        return read

    def var(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def bind(self, prefix: str, value: object) -> str:
        """A name in the generated code's namespace for ``value``."""
        name = self.var(prefix)
        self.namespace[name] = value
        return name

    # Names of readers: a helper, or a generated function.

    def value(self, schema: Any, projection: Projection | None) -> str:
        """The name of a function returning one decoded value of ``schema``."""
        schema = self.resolve(schema)
        kind = _kind(schema)
        if isinstance(schema, str) and schema in _PRIMITIVE_READERS:
            return f"_read_{schema}"
        if kind == "record":
            return self.record(schema, projection)
        if kind == "fixed":
            return self.bind("_fixed", _fixed(int(schema["size"])))
        if kind == "enum":
            return self.bind("_enum", _enum(tuple(str(s) for s in schema["symbols"])))
        pairs = self.pairs(schema) if kind == "array" else None
        if pairs is not None:
            return pairs
        name = self.var("_value")
        body: list[str] = []
        self.read(body, "    ", schema, projection, "v")
        self.functions.append(_function(name, [*body, "    return v"]))
        return name

    def record(self, schema: Any, projection: Projection | None) -> str:
        key = (id(schema), id(projection))
        if key in self.readers:  # a named type used twice, or a recursive one
            return self.readers[key]
        name = self.readers[key] = self.var("_record")
        body = ["    r = {}"]
        skipped: list[Any] = []
        for position, field in enumerate(schema["fields"]):
            field_id = _field_id(field, position)
            if projection is not None and field_id not in projection:
                skipped.append(field["type"])
                continue
            self.skip_fields(body, skipped)
            skipped = []
            nested = None if projection is None else projection[field_id]
            self.read(body, "    ", field["type"], nested, f"r[{field_id}]")
        self.skip_fields(body, skipped)
        self.functions.append(_function(name, [*body, "    return r"]))
        return name

    def skipper(self, schema: Any) -> str:
        """The name of a function moving past one value of ``schema``."""
        schema = self.resolve(schema)
        if schema in ("string", "bytes"):
            return "_skip_bytes"
        if _kind(schema) == "array" and self.int_bytes_pairs(schema):
            return "_skip_int_bytes_pairs"
        key = id(schema)
        items = _items(schema)
        if key not in self.skippers and items is not None and self.varints(items) is not None:
            self.skippers[key] = self.bind("_skip", _varint_blocks(self.varints(items) or 0))
        if key not in self.skippers:
            name = self.skippers[key] = self.var("_skip")
            body: list[str] = []
            if _kind(schema) == "record":
                self.skip_fields(body, [field["type"] for field in schema["fields"]])
            else:
                self.skip(body, "    ", schema)
            self.functions.append(_function(name, [*body, "    return None"]))
        return self.skippers[key]

    # Statements.

    def read(
        self, out: list[str], pad: str, schema: Any, projection: Projection | None, target: str
    ) -> None:
        """Statements that decode a value of ``schema`` into ``target``."""
        schema = self.resolve(schema)
        kind = _kind(schema)
        if schema in ("int", "long"):
            out.append(f"{pad}{target} = d.read_int()")
        elif schema == "null":
            out.append(f"{pad}{target} = None")
        elif schema in ("boolean", "float", "double"):
            out.append(f"{pad}{target} = d.read_{schema}()")
        elif kind == "union" and self.optional(schema):
            null, other = self.optional(schema)  # type: ignore[misc]
            out.append(
                f"{pad}{target} = _optional(d, end, {null}, {self.value(other, projection)})"
            )
        elif kind == "union":
            self.branches(out, pad, schema, lambda o, p, b: self.read(o, p, b, projection, target))
        elif kind == "array":
            out.append(f"{pad}{target} = {self.array(schema, projection)}")
        elif kind == "map":
            values = self.value(schema["values"], projection)
            out.append(f"{pad}{target} = _dict(d, end, {self.value('string', None)}, {values})")
        elif schema in ("string", "bytes") or kind in ("fixed", "enum", "record"):
            out.append(f"{pad}{target} = {self.value(schema, projection)}(d, end)")
        else:
            raise AvroError(f"unsupported Avro type {schema!r} in a projected field")

    def array(self, schema: Any, projection: Projection | None) -> str:
        """The expression reading an array."""
        pairs = self.pairs(schema)
        if pairs is not None:
            return f"{pairs}(d, end)"
        pair = self.key_value(schema)
        if pair is None:
            return f"_list(d, end, {self.value(schema['items'], projection)})"
        key, value = pair  # Iceberg's map with non-string keys: read as a dict
        return f"_dict(d, end, {self.value(key, None)}, {self.value(value, None)})"

    def pairs(self, schema: Any) -> str | None:
        """The helper reading an array that is one of Iceberg's maps by field id, if it is."""
        found = self.by_field_id(schema)
        return (
            None
            if found is None
            else {"counts": "_read_int_pairs", "bounds": "_int_bytes_pairs"}[found]
        )

    def branches(
        self, out: list[str], pad: str, schema: list[Any], each: Callable[..., None]
    ) -> None:
        """An ``if`` chain on the branch index; branches with nothing to do only count."""
        index = self.var("b")
        out.append(f"{pad}{index} = d.read_int()")
        keyword = "if"
        for position, branch in enumerate(schema):
            body: list[str] = []
            each(body, pad + "    ", branch)
            if body:
                out += [f"{pad}{keyword} {index} == {position}:", *body]
                keyword = "elif"
        out += [
            f"{pad}{keyword} not 0 <= {index} < {len(schema)}:",
            f"{pad}    raise _no_branch({index})",
        ]

    def skip_fields(self, out: list[str], types: list[Any]) -> None:
        """Statements that move past consecutive fields; runs of varints become one read."""
        pending = 0
        for schema in types:
            count = self.varints(schema)
            if count is not None:
                pending += count
                continue
            _skip_varints(out, "    ", pending)
            pending = 0
            self.skip(out, "    ", schema)
        _skip_varints(out, "    ", pending)

    def skip(self, out: list[str], pad: str, schema: Any) -> None:
        """Statements that move past a value of ``schema``."""
        schema = self.resolve(schema)
        count = self.varints(schema)
        kind = _kind(schema)
        if count is not None:
            _skip_varints(out, pad, count)
        elif schema in ("string", "bytes"):
            out.append(f"{pad}_skip_bytes(d, end)")
        elif schema in ("float", "double"):
            out.append(f"{pad}d.skip({4 if schema == 'float' else 8})")
        elif kind == "fixed":
            out.append(f"{pad}d.skip({int(schema['size'])})")
        elif kind == "union" and self.optional(schema):
            null, other = self.optional(schema)  # type: ignore[misc]
            count = self.varints(other)
            if count is not None:
                out.append(f"{pad}_skip_optional_varints(d, end, {null}, {count})")
            else:
                out.append(f"{pad}_skip_optional(d, end, {null}, {self.skipper(other)})")
        elif kind == "union":
            self.branches(out, pad, schema, self.skip)
        elif kind == "record":
            out.append(f"{pad}{self.skipper(schema)}(d, end)")
        elif kind == "array" and self.int_bytes_pairs(schema):
            out.append(f"{pad}_skip_int_bytes_pairs(d, end)")
        elif kind == "array":
            self.skip_blocks(out, pad, schema["items"])
        elif kind == "map":
            out.append(f"{pad}_skip_map(d, end, {self.skipper(schema['values'])})")
        else:
            raise AvroError(f"unsupported Avro type {schema!r}")

    def skip_blocks(self, out: list[str], pad: str, item: Any) -> None:
        varints = self.varints(item)
        if varints is not None:
            out.append(f"{pad}_skip_blocks(d, end, {varints}, None)")
        else:
            out.append(f"{pad}_skip_blocks(d, end, 0, {self.skipper(item)})")

    def int_bytes_pairs(self, schema: Any) -> bool:
        """Whether an array is Iceberg's map of int to bytes (bounds by field id)."""
        return self.by_field_id(schema) == "bounds"


def _function(name: str, body: list[str]) -> str:
    return f"def {name}(d, end):\n" + "\n".join(body)


def _skip_varints(out: list[str], pad: str, count: int) -> None:
    if count == 1:
        out.append(f"{pad}d.skip_int()")
    elif count > 1:
        out.append(f"{pad}d.read_ints({count})")


def _items(schema: Any) -> Any:
    """The item type of an array, or None for any other type."""
    return schema["items"] if _kind(schema) == "array" else None
