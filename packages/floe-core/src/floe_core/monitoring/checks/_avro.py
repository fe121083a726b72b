"""A projecting reader of Avro object container files, for Iceberg manifests and manifest lists.

pyiceberg decodes every field of every manifest entry into objects, after resolving the file's
schema against its own (about a millisecond per schema, then tens of microseconds per entry).
floe needs a handful of fields per entry: ``read_records`` decodes only the fields named by
Iceberg field id in a ``Projection`` and skips every other value by its writer schema, with no
objects built for what it skips. The primitives are pyiceberg's own binary decoder (compiled
when pyiceberg ships its Cython extension). Its compiled ``read``/``read_bytes`` in pyiceberg
0.12 take a length from the data without checking it against the end of the buffer (fixed
upstream after apache/iceberg-python#3952), so every length read here is checked before the
bytes are taken.

The format (https://avro.apache.org/docs/1.11.1/specification/#object-container-files): the
magic ``Obj\\x01``, a metadata map holding the writer schema and codec, a 16-byte sync marker,
then blocks of (record count, byte size, records, sync marker). Every block must be consumed
exactly by its records and end with the file's marker, so a schema this reader misreads or a
damaged file fails loudly (``AvroError``) rather than yielding wrong values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.avro.decoder import BinaryDecoder

MAGIC = b"Obj\x01"
SYNC_SIZE = 16

#: Which fields of a record to decode, by Iceberg field id: ``None`` decodes the whole value,
#: a nested ``Projection`` decodes only those fields of a record-valued field.
Projection = Mapping[int, "Projection | None"]
#: A decoded record: its projected fields by field id (fields the writer lacks are absent).
Record = dict[int, Any]

# Readers and skippers take the decoder and the length of its buffer, which pyiceberg's
# compiled decoder does not check reads against.
Skip = Callable[["BinaryDecoder", int], object]
Read = Callable[["BinaryDecoder", int], Any]


class AvroError(ValueError):
    """The file is not an Avro container this reader understands, or it is damaged."""


def _read_bytes(decoder: BinaryDecoder, end: int) -> bytes:
    size = decoder.read_int()
    if size < 0 or decoder.tell() + size > end:
        raise AvroError(f"a value of {size} bytes runs past the end of the data")
    return decoder.read(size)


def _read_string(decoder: BinaryDecoder, end: int) -> str:
    return _read_bytes(decoder, end).decode("utf-8")


def _skip_bytes(decoder: BinaryDecoder, end: int) -> None:
    size = decoder.read_int()
    if size < 0:
        raise AvroError("a negative byte length")
    decoder.skip(size)  # moves the position only; the block's final check catches an overrun


def _skip_varints(count: int) -> Skip:
    """Skips ``count`` varints (ints, longs, enums, booleans: a boolean byte reads as one)."""
    if count == 0:
        return lambda decoder, end: None
    if count == 1:
        return lambda decoder, end: decoder.skip_int()
    return lambda decoder, end: decoder.read_ints(count)


class _Schema:
    """Readers and skippers for the types of one writer schema, named types included."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}

    def resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema in self.names:
            return self.names[schema]
        if isinstance(schema, dict):
            if schema.get("type") in ("record", "error", "enum", "fixed") and "name" in schema:
                self.names[schema["name"]] = schema
                namespace = schema.get("namespace")
                if namespace:
                    self.names[f"{namespace}.{schema['name']}"] = schema
            if schema.get("type") not in ("record", "error", "enum", "fixed", "array", "map"):
                return self.resolve(schema["type"])  # a primitive with attributes
        return schema

    def varints(self, schema: Any) -> int | None:
        """How many varints encode every value of ``schema``, if always the same number."""
        schema = self.resolve(schema)
        if schema in ("int", "long", "boolean") or _kind(schema) == "enum":
            return 1
        if schema == "null":
            return 0
        if _kind(schema) == "record":
            total = 0
            for field in schema["fields"]:
                count = self.varints(field["type"])
                if count is None:
                    return None
                total += count
            return total
        return None

    def skipper(self, schema: Any) -> Skip:
        schema = self.resolve(schema)
        count = self.varints(schema)
        if count is not None:
            return _skip_varints(count)
        if schema in ("string", "bytes"):
            return _skip_bytes
        if schema == "float":
            return lambda decoder, end: decoder.skip(4)
        if schema == "double":
            return lambda decoder, end: decoder.skip(8)
        kind = _kind(schema)
        if kind == "fixed":
            size = int(schema["size"])
            return lambda decoder, end: decoder.skip(size)
        if kind == "union":
            return _union([self.skipper(branch) for branch in schema])
        if kind == "record":
            return _skip_record([self.skipper(f["type"]) for f in schema["fields"]])
        if kind == "array":
            return _skip_blocks(self.varints(schema["items"]), self.skipper(schema["items"]))
        if kind == "map":
            return _skip_blocks(None, _skip_record([_skip_bytes, self.skipper(schema["values"])]))
        raise AvroError(f"unsupported Avro type {schema!r}")

    def reader(self, schema: Any, projection: Projection | None = None) -> Read:
        """Decodes a value of ``schema``: records as ``Record``, arrays as lists, maps as dicts."""
        schema = self.resolve(schema)
        if schema in ("int", "long"):
            return lambda decoder, end: decoder.read_int()
        if schema == "string":
            return _read_string
        if schema == "bytes":
            return _read_bytes
        if schema == "null":
            return lambda decoder, end: None
        if schema == "boolean":
            return lambda decoder, end: decoder.read_boolean()
        if schema == "float":
            return lambda decoder, end: decoder.read_float()
        if schema == "double":
            return lambda decoder, end: decoder.read_double()
        kind = _kind(schema)
        if kind == "fixed":
            size = int(schema["size"])
            return lambda decoder, end: _read_fixed(decoder, end, size)
        if kind == "enum":
            return _read_enum(list(schema["symbols"]))
        if kind == "union":
            return _union([self.reader(branch, projection) for branch in schema])
        if kind == "record":
            return self._read_record(schema, projection)
        if kind == "array":
            pair = self._key_value(schema)
            if pair is not None:  # Iceberg's map with non-string keys: read as a dict
                if all(self.resolve(t) in ("int", "long") for t in pair):
                    return _read_int_pairs  # counts by field id: wide tables have many
                return _read_pairs(self.reader(pair[0]), self.reader(pair[1]))
            return _read_array(self.reader(schema["items"], projection))
        if kind == "map":
            return _read_pairs(_read_string, self.reader(schema["values"], projection))
        raise AvroError(f"unsupported Avro type {schema!r} in a projected field")

    def _key_value(self, schema: Any) -> tuple[Any, Any] | None:
        """The key and value types of an array that is Iceberg's encoding of a map."""
        items = self.resolve(schema["items"])
        if schema.get("logicalType") != "map" or _kind(items) != "record":
            return None
        fields = items["fields"]
        if [f["name"] for f in fields] != ["key", "value"]:
            return None
        return fields[0]["type"], fields[1]["type"]

    def _read_record(self, schema: Any, projection: Projection | None) -> Read:
        steps: list[tuple[int | None, Any]] = []
        pending: list[tuple[int | None, Skip]] = []  # skipped fields, merged into one step
        for position, field in enumerate(schema["fields"]):
            field_id = _field_id(field, position)
            if projection is not None and field_id not in projection:
                pending.append((self.varints(field["type"]), self.skipper(field["type"])))
                continue
            if pending:
                steps.append((None, _merge(pending)))
                pending = []
            nested = None if projection is None else projection[field_id]
            steps.append((field_id, self.reader(field["type"], nested)))
        if pending:
            steps.append((None, _merge(pending)))

        def read_record(decoder: BinaryDecoder, end: int) -> Record:
            record: Record = {}
            for field_id, step in steps:
                if field_id is None:
                    step(decoder, end)
                else:
                    record[field_id] = step(decoder, end)
            return record

        return read_record


def _kind(schema: Any) -> str | None:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        kind = schema.get("type")
        return "record" if kind == "error" else kind
    return None


def _field_id(field: Mapping[str, Any], position: int) -> int:
    """The field's Iceberg id; fields without one get a negative id from their position."""
    field_id = field.get("field-id", field.get("field_id"))
    return int(field_id) if field_id is not None else -1 - position


def _read_fixed(decoder: BinaryDecoder, end: int, size: int) -> bytes:
    if decoder.tell() + size > end:
        raise AvroError(f"a fixed value of {size} bytes runs past the end of the data")
    return decoder.read(size)


def _read_enum(symbols: list[str]) -> Read:
    def read_enum(decoder: BinaryDecoder, end: int) -> str:
        index = decoder.read_int()
        if not 0 <= index < len(symbols):
            raise AvroError(f"enum symbol {index} does not exist")
        return symbols[index]

    return read_enum


def _merge(skips: list[tuple[int | None, Skip]]) -> Skip:
    """One skipper for consecutive fields, given with their varint counts; runs become one."""
    merged: list[Skip] = []
    run = 0
    for count, skip in skips:
        if count is not None:
            run += count
            continue
        if run:
            merged.append(_skip_varints(run))
            run = 0
        merged.append(skip)
    if run:
        merged.append(_skip_varints(run))
    if len(merged) == 1:
        return merged[0]
    return _skip_record(merged)


def _union(branches: list[Read]) -> Read:
    if len(branches) == 2:  # an optional value, as Iceberg writes every optional field
        first, second = branches

        def either(decoder: BinaryDecoder, end: int) -> Any:
            index = decoder.read_int()
            if index == 0:
                return first(decoder, end)
            if index == 1:
                return second(decoder, end)
            raise AvroError(f"union branch {index} does not exist")

        return either

    def union(decoder: BinaryDecoder, end: int) -> Any:
        index = decoder.read_int()
        if not 0 <= index < len(branches):
            raise AvroError(f"union branch {index} does not exist")
        return branches[index](decoder, end)

    return union


def _skip_record(fields: list[Skip]) -> Skip:
    def skip_record(decoder: BinaryDecoder, end: int) -> None:
        for skip in fields:
            skip(decoder, end)

    return skip_record


def _block_count(decoder: BinaryDecoder) -> int:
    """The item count of the next array or map block; a negative count precedes a size."""
    count = decoder.read_int()
    if count < 0:
        count = -count
        decoder.read_int()  # the block's size in bytes
    return count


def _skip_blocks(varints: int | None, item: Skip) -> Skip:
    def skip_blocks(decoder: BinaryDecoder, end: int) -> None:
        while True:
            count = decoder.read_int()
            if count == 0:
                return
            if count < 0:  # the block gives its size in bytes: jump over it
                size = decoder.read_int()
                if size < 0:
                    raise AvroError("a negative block size")
                decoder.skip(size)
            elif varints:
                decoder.read_ints(varints * count)
            else:
                for _ in range(count):
                    item(decoder, end)

    return skip_blocks


def _read_int_pairs(decoder: BinaryDecoder, end: int) -> dict[int, int]:
    """A map of int or long to int or long (Iceberg's counts by field id), read in bulk."""
    pairs: dict[int, int] = {}
    while count := _block_count(decoder):
        values = decoder.read_ints(2 * count)
        pairs.update(zip(values[::2], values[1::2], strict=True))
    return pairs


def _read_pairs(key: Read, value: Read) -> Read:
    def read_pairs(decoder: BinaryDecoder, end: int) -> dict[Any, Any]:
        pairs: dict[Any, Any] = {}
        while count := _block_count(decoder):
            for _ in range(count):
                k = key(decoder, end)
                pairs[k] = value(decoder, end)
        return pairs

    return read_pairs


def _read_array(item: Read) -> Read:
    def read_array(decoder: BinaryDecoder, end: int) -> list[Any]:
        items: list[Any] = []
        while count := _block_count(decoder):
            items.extend(item(decoder, end) for _ in range(count))
        return items

    return read_array


_KEPT_META = (b"avro.schema", b"avro.codec")


def _header_meta(decoder: BinaryDecoder, end: int) -> dict[bytes, bytes]:
    """The writer schema and codec from the header's metadata map; other entries skipped."""
    meta: dict[bytes, bytes] = {}
    while count := _block_count(decoder):
        for _ in range(count):
            key = _read_bytes(decoder, end)
            if key in _KEPT_META:
                meta[key] = _read_bytes(decoder, end)
            else:
                _skip_bytes(decoder, end)
    return meta


_plans: dict[tuple[bytes, int], tuple[Projection, Read]] = {}
_plans_lock = threading.Lock()
_MAX_PLANS = 512  # distinct (writer schema, projection) pairs kept; the oldest go first


def _plan(schema_json: bytes, projection: Projection) -> Read:
    """The record reader of a writer schema for ``projection``, compiled once per process."""
    key = (schema_json, id(projection))
    known = _plans.get(key)
    if known is not None:
        return known[1]
    try:
        schema = json.loads(schema_json)
    except ValueError as exc:
        raise AvroError(f"the writer schema is not valid JSON: {exc}") from None
    plan = _Schema().reader(schema, projection)
    with _plans_lock:
        _plans[key] = (projection, plan)  # the projection kept alive, so its id stays its own
        while len(_plans) > _MAX_PLANS:
            del _plans[next(iter(_plans))]
    return plan


def _decompressor(codec: str) -> Callable[[bytes], bytes] | None:
    if codec == "null":
        return None
    if codec == "deflate":
        import zlib

        return lambda data: zlib.decompress(data, -15)
    from pyiceberg.avro.codecs import KNOWN_CODECS

    known = next((c for name, c in KNOWN_CODECS.items() if name == codec), None)
    if known is None:
        raise AvroError(f"unknown Avro codec '{codec}'")
    decompress: Callable[[bytes], bytes] = known.decompress
    return decompress


def read_records(data: bytes, projection: Projection) -> Iterator[Record]:
    """The records of the Avro container ``data``, with only the ``projection``'s fields.

    Readers are compiled once per (writer schema, projection object): pass the same
    ``projection`` object each time, such as a module-level constant.
    """
    from pyiceberg.avro.decoder import new_decoder

    if data[:4] != MAGIC:
        raise AvroError("not an Avro object container file (bad magic bytes)")
    decoder, end = new_decoder(data), len(data)
    try:
        decoder.skip(4)
        meta = _header_meta(decoder, end)
        sync = _read_fixed(decoder, end, SYNC_SIZE)
        if b"avro.schema" not in meta:
            raise AvroError("the header holds no writer schema")
        read = _plan(meta[b"avro.schema"], projection)
        decompress = _decompressor(meta.get(b"avro.codec", b"null").decode())
        blocks = []
        while decoder.tell() < end:
            count = decoder.read_int()
            blocks.append((count, _read_bytes(decoder, end)))
            if _read_fixed(decoder, end, SYNC_SIZE) != sync:
                raise AvroError("a block does not end with the file's sync marker")
    except EOFError:
        raise AvroError("the file ends inside its header or a block header") from None
    for count, raw in blocks:
        try:
            block = decompress(raw) if decompress is not None else raw
        except Exception as exc:  # each codec raises its own error type
            raise AvroError(f"a block cannot be decompressed: {exc}") from None
        block_decoder, block_end = new_decoder(block), len(block)
        try:
            records = [read(block_decoder, block_end) for _ in range(count)]
        except EOFError:
            raise AvroError("a block ends inside a record") from None
        if block_decoder.tell() != block_end:
            raise AvroError("a block's records do not end where the block ends")
        yield from records
