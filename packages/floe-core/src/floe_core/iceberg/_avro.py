"""A projecting reader of Avro object container files, for Iceberg manifests and manifest lists.

pyiceberg decodes every field of every manifest entry into objects, after resolving the file's
schema against its own (about a millisecond per schema, then tens of microseconds per entry).
floe needs a handful of fields per entry: ``read_records`` decodes only the fields named by
Iceberg field id in a ``Projection`` and skips every other value by its writer schema. Once
per (writer schema, projection) it builds a plan that the C decoder of the optional
floe-speedups distribution follows (``_avro_plan``), or, without it, generates a Python reader
(``_avro_compile``) over pyiceberg's own binary decoder (compiled when pyiceberg ships its
Cython extension). That decoder's ``read``/``read_bytes`` in pyiceberg 0.12 take a length from
the data without checking it against the end of the buffer (fixed upstream after
apache/iceberg-python#3952), so every length read here is checked before the bytes are taken,
in both decoders; a differential fuzz test holds them to the same answers.

The format (https://avro.apache.org/docs/1.11.1/specification/#object-container-files): the
magic ``Obj\\x01``, a metadata map holding the writer schema and codec, a 16-byte sync marker,
then blocks of (record count, byte size, records, sync marker). Every block must be consumed
exactly by its records and end with the file's marker, so a schema this reader misreads or a
damaged file fails loudly (``AvroError``) rather than yielding wrong values. Files written
together (the manifests of one table) share their header byte for byte: a header seen
recently is recognised by comparing bytes, and its schema and codec are not parsed again.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from floe_core._speedups import accelerator
from floe_core.iceberg._avro_compile import compile_reader
from floe_core.iceberg._avro_helpers import Read, block_count, check_count
from floe_core.iceberg._avro_helpers import _bytes as read_bytes
from floe_core.iceberg._avro_helpers import _fixed as fixed_reader
from floe_core.iceberg._avro_plan import Plan, Unplannable, plan_reader
from floe_core.iceberg._avro_schema import AvroError, Projection

if TYPE_CHECKING:
    from pyiceberg.avro.decoder import BinaryDecoder

__all__ = ["AvroError", "Projection", "Record", "clear_caches", "read_records"]

MAGIC = b"Obj\x01"
SYNC_SIZE = 16

#: A decoded record: its projected fields by field id (fields the writer lacks are absent).
Record = dict[int, Any]


_read_sync = fixed_reader(SYNC_SIZE)
_KEPT_META = (b"avro.schema", b"avro.codec")
Decompress = Callable[[bytes], bytes]


def _header_meta(decoder: BinaryDecoder, end: int) -> dict[bytes, bytes]:
    """The writer schema and codec from the header's metadata map; other entries skipped."""
    meta: dict[bytes, bytes] = {}
    while count := block_count(decoder, end):
        for _ in range(count):
            key = read_bytes(decoder, end)
            value = read_bytes(decoder, end)
            if key in _KEPT_META:
                meta[key] = value
    return meta


class _Reader(NamedTuple):
    """How to decode a writer schema's records: generated Python, or a plan for the C decoder."""

    read: Read | None
    plan: Plan | None


class _Header(NamedTuple):
    """A header seen before: its bytes up to the sync marker, and what they say."""

    prefix: bytes
    projection: Projection
    reader: _Reader
    decompress: Decompress | None


_lock = threading.Lock()
_plans: dict[tuple[bytes, int], tuple[Projection, _Reader]] = {}
_MAX_PLANS = 512  # distinct (writer schema, projection) pairs kept; the oldest go first
_headers: tuple[_Header, ...] = ()  # most recent first; replaced whole, so read without lock
_MAX_HEADERS = 16


def clear_caches() -> None:
    """Forget every compiled reader and remembered header, as a new process starts."""
    global _headers
    with _lock:
        _plans.clear()
        _headers = ()


def _plan(schema_json: bytes, projection: Projection) -> _Reader:
    """The reader of a writer schema for ``projection``, planned or compiled once per process."""
    key = (schema_json, id(projection))
    known = _plans.get(key)
    if known is not None:
        return known[1]
    try:
        schema = json.loads(schema_json)
    except ValueError as exc:
        raise AvroError(f"the writer schema is not valid JSON: {exc}") from None
    reader = None
    try:
        if accelerator() is not None:
            with contextlib.suppress(Unplannable):  # recursive: generated Python reads it
                reader = _Reader(None, plan_reader(schema, projection))
        if reader is None:
            reader = _Reader(compile_reader(schema, projection), None)
    except AvroError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        raise AvroError(f"the writer schema is not a valid Avro schema ({exc!r})") from None
    with _lock:
        _plans[key] = (projection, reader)  # the projection kept alive, so its id stays its own
        while len(_plans) > _MAX_PLANS:
            del _plans[next(iter(_plans))]
    return reader


def _decompressor(codec: str) -> Decompress | None:
    """The codec's decompression, raising ``AvroError`` for a block it cannot decompress."""
    if codec == "null":
        return None
    if codec == "deflate":
        import zlib

        def decompress(data: bytes) -> bytes:
            try:
                return zlib.decompress(data, -15)  # raw deflate, as Avro writes it
            except zlib.error as exc:
                raise AvroError(f"a block cannot be decompressed: {exc}") from None

        return decompress
    from pyiceberg.avro.codecs import KNOWN_CODECS

    known = next((c for name, c in KNOWN_CODECS.items() if name == codec), None)
    if known is None:
        raise AvroError(f"unknown Avro codec '{codec}'")
    codec_decompress: Decompress = known.decompress

    def checked(data: bytes) -> bytes:
        try:
            return codec_decompress(data)
        except Exception as exc:  # each codec raises its own error type
            raise AvroError(f"a block cannot be decompressed: {exc}") from None

    return checked


def _parse_header(data: bytes, decoder: BinaryDecoder, projection: Projection) -> _Header:
    """Read the header's metadata (the decoder is left at the sync marker) and remember it."""
    global _headers
    meta = _header_meta(decoder, len(data))
    if b"avro.schema" not in meta:
        raise AvroError("the header holds no writer schema")
    header = _Header(
        data[: decoder.tell()],
        projection,
        _plan(meta[b"avro.schema"], projection),
        _decompressor(meta.get(b"avro.codec", b"null").decode(errors="replace")),
    )
    with _lock:
        _headers = (header, *_headers[: _MAX_HEADERS - 1])
    return header


_new_decoder: Callable[[bytes], BinaryDecoder] | None = None


def decoder_class() -> Callable[[bytes], BinaryDecoder]:
    """pyiceberg's compiled binary decoder where it ships, else its pure-Python one.

    As pyiceberg's ``new_decoder`` chooses, but once: it imports per call, which costs a
    one-entry manifest more than decoding its entry.
    """
    global _new_decoder
    if _new_decoder is None:
        try:
            from pyiceberg.avro.decoder_fast import CythonBinaryDecoder

            _new_decoder = CythonBinaryDecoder
        except ModuleNotFoundError:
            from pyiceberg.avro.decoder import StreamingBinaryDecoder

            _new_decoder = StreamingBinaryDecoder
    return _new_decoder


def read_records(data: bytes, projection: Projection) -> list[Record]:
    """The records of the Avro container ``data``, with only the ``projection``'s fields.

    Readers are planned or compiled once per (writer schema, projection object): pass the
    same ``projection`` object each time, such as a module-level constant.
    """
    if not data.startswith(MAGIC):
        raise AvroError("not an Avro object container file (bad magic bytes)")
    for header in _headers:
        if header.projection is projection and data.startswith(header.prefix):
            break
    else:
        decoder = decoder_class()(data)
        decoder.skip(len(MAGIC))
        try:
            header = _parse_header(data, decoder, projection)
        except EOFError:
            raise AvroError("the file ends inside its header") from None
    plan = header.reader.plan
    if plan is None:
        return _read_blocks(data, header)
    try:
        records: list[Record] = accelerator().read_blocks(
            data, len(header.prefix), plan, header.decompress
        )
    except AvroError:
        raise
    except ValueError as exc:  # the C decoder's word for damaged data
        raise AvroError(str(exc)) from None
    return records


def _read_blocks(data: bytes, header: _Header) -> list[Record]:
    """The blocks after ``header``, decoded by generated Python."""
    new_decoder = decoder_class()
    decoder, end = new_decoder(data), len(data)
    read, decompress = header.reader.read, header.decompress
    assert read is not None
    records: list[Record] = []
    try:
        decoder.skip(len(header.prefix))
        sync = _read_sync(decoder, end)
        while decoder.tell() < end:
            count = decoder.read_int()
            size = decoder.read_int()
            if size < 0 or decoder.tell() + size + SYNC_SIZE > end:
                raise AvroError(f"a block of {size} bytes runs past the end of the data")
            raw = decoder.read(size)
            if decoder.read(SYNC_SIZE) != sync:
                raise AvroError("a block does not end with the file's sync marker")
            block = decompress(raw) if decompress is not None else raw
            block_decoder, block_end = new_decoder(block), len(block)
            if count < 0:
                raise AvroError(f"a block of {count} records")
            check_count(block_decoder, block_end, count)
            try:
                records += [read(block_decoder, block_end) for _ in range(count)]
            except EOFError:
                raise AvroError("a block ends inside a record") from None
            except UnicodeDecodeError as exc:
                raise AvroError(f"a string is not UTF-8: {exc}") from None
            if block_decoder.tell() != block_end:
                raise AvroError("a block's records do not end where the block ends")
    except EOFError:
        raise AvroError("the file ends inside its header or a block header") from None
    return records
