"""The projecting Avro reader: every Avro type, projections, and damaged files fail loudly."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from floe_core.iceberg._avro import AvroError, read_records

SYNC = bytes(range(16))


@pytest.fixture(params=["c", "compiled", "pure-python"], autouse=True)
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test runs on floe-speedups' C decoder, and on generated Python over pyiceberg's
    compiled decoder and over its pure-Python fallback."""
    from floe_core import _speedups
    from floe_core.iceberg import _avro

    if request.param == "c":
        request.getfixturevalue("speedups")
    else:
        monkeypatch.setattr(_speedups, "_accelerated", None)
    if request.param == "pure-python":
        from pyiceberg.avro.decoder import StreamingBinaryDecoder

        monkeypatch.setattr(_avro, "_new_decoder", StreamingBinaryDecoder)
    elif request.param == "compiled":
        from pyiceberg.avro.decoder_fast import CythonBinaryDecoder

        assert _avro.decoder_class() is CythonBinaryDecoder
    _avro.clear_caches()  # readers of one implementation are not used by another
    yield str(request.param)
    _avro.clear_caches()


def long(value: int) -> bytes:
    """Avro's zig-zag varint."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return long(len(raw)) + raw


def container(schema: Any, records: list[bytes], codec: str = "null") -> bytes:
    """An Avro object container file holding the already encoded ``records`` in one block."""
    meta = {"avro.schema": json.dumps(schema).encode(), "avro.codec": codec.encode()}
    header = b"Obj\x01" + long(len(meta))
    header += b"".join(string(k) + string(v) for k, v in meta.items()) + long(0) + SYNC
    block = b"".join(records)
    if codec == "deflate":
        compressor = zlib.compressobj(wbits=-15)
        block = compressor.compress(block) + compressor.flush()
    return header + long(len(records)) + string(block) + SYNC


POINT = {
    "type": "record",
    "name": "point",
    "fields": [{"name": "x", "type": "int", "field-id": 21}, {"name": "label", "type": "string"}],
}
SCHEMA = {
    "type": "record",
    "name": "everything",
    "fields": [
        {"name": "n", "type": "long", "field-id": 1},
        {"name": "text", "type": "string", "field-id": 2},
        {"name": "maybe", "type": ["null", "long"], "field-id": 3},
        {
            "name": "kind",
            "type": {"type": "enum", "name": "k", "symbols": ["A", "B"]},
            "field-id": 4,
        },
        {"name": "digest", "type": {"type": "fixed", "name": "f4", "size": 4}, "field-id": 5},
        {"name": "tags", "type": {"type": "map", "values": "long"}, "field-id": 6},
        {"name": "scores", "type": {"type": "array", "items": "double"}, "field-id": 7},
        {"name": "flag", "type": "boolean", "field-id": 8},
        {"name": "ratio", "type": "float", "field-id": 9},
        {"name": "origin", "type": POINT, "field-id": 10},
        {"name": "target", "type": "point", "field-id": 11},  # a named reference
        {
            "name": "pairs",
            "type": {
                "type": "array",
                "logicalType": "map",
                "items": {
                    "type": "record",
                    "name": "k12_v13",
                    "fields": [
                        {"name": "key", "type": "int", "field-id": 12},
                        {"name": "value", "type": "bytes", "field-id": 13},
                    ],
                },
            },
            "field-id": 14,
        },
        {"name": "ints", "type": {"type": "array", "items": "int"}, "field-id": 15},
    ],
}


def everything(n: int) -> bytes:
    scores = struct.pack("<d", 1.5) + struct.pack("<d", -2.0)
    return b"".join(
        [
            long(n),
            string(f"row {n}"),
            long(1) + long(n * 1000) if n % 2 else long(0),  # union: long, or null
            long(n % 2),
            b"\x00\x01\x02\x03",
            long(2) + string("a") + long(1) + string("b") + long(-2) + long(0),
            long(-2) + long(len(scores)) + scores + long(0),  # a block with its byte size
            b"\x01",
            struct.pack("<f", 0.25),
            long(7) + string("o"),
            long(-7) + string("t"),
            long(2) + long(1) + string(b"\x01") + long(2) + string(b"") + long(0),
            long(3) + long(1) + long(300) + long(-5) + long(0),
        ]
    )


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_every_type_is_read_whole(codec: str) -> None:
    data = container(SCHEMA, [everything(1), everything(2)], codec)
    projection = {i: None for i in range(1, 16)}
    first, second = list(read_records(data, projection))
    assert first == {
        1: 1,
        2: "row 1",
        3: 1000,
        4: "B",
        5: b"\x00\x01\x02\x03",
        6: {"a": 1, "b": -2},
        7: [1.5, -2.0],
        8: True,
        9: 0.25,
        10: {21: 7, -2: "o"},  # a field without an Iceberg id is named by its position
        11: {21: -7, -2: "t"},
        14: {1: b"\x01", 2: b""},
        15: [1, 300, -5],
    }
    assert (second[1], second[3], second[4]) == (2, None, "A")


def test_unprojected_fields_of_every_type_are_skipped() -> None:
    data = container(SCHEMA, [everything(3), everything(4)])
    only = {2: None, 11: {21: None}, 15: None}
    assert list(read_records(data, only)) == [
        {2: "row 3", 11: {21: -7}, 15: [1, 300, -5]},
        {2: "row 4", 11: {21: -7}, 15: [1, 300, -5]},
    ]
    assert list(read_records(data, {})) == [{}, {}]


@pytest.fixture
def deflated() -> bytes:
    """Three records in a deflated block, the codec pyiceberg writes manifests with."""
    return container(SCHEMA, [everything(i) for i in range(3)], "deflate")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: b"Obj\x02" + d[4:], "bad magic"),
        (lambda d: d[: len(d) // 2], "past the end"),
        (lambda d: d[:-20], "past the end"),
        (lambda d: d[:-16] + bytes(16), "sync marker"),
        (lambda d: d.replace(b"avro.codec", b"avro.codex"), None),  # unknown meta: no codec
        (lambda d: d.replace(b"deflate", b"deflat3"), "unknown Avro codec 'deflat3'"),
        (lambda d: d.replace(b'"long"', b'"lung"', 1), "unsupported Avro type"),
    ],
)
def test_damaged_files_fail_loudly(deflated: bytes, damage: Any, message: str | None) -> None:
    with pytest.raises(AvroError) as raised:
        list(read_records(damage(deflated), {1: None}))
    if message is not None:
        assert message in str(raised.value)


def test_a_block_holding_more_or_fewer_bytes_than_its_records_fails() -> None:
    extra = container(SCHEMA, [everything(1) + b"\x00"])
    with pytest.raises(AvroError, match="do not end where the block ends"):
        list(read_records(extra, {1: None}))
    short = container(SCHEMA, [everything(1)[:-3]])
    with pytest.raises(AvroError):
        list(read_records(short, {1: None}))


def test_a_length_past_the_end_of_its_block_is_refused_before_reading() -> None:
    record = long(1) + long(10_000) + b"short"  # "text" claims 10,000 bytes
    with pytest.raises(AvroError, match="runs past the end"):
        list(read_records(container(SCHEMA, [record]), {2: None}))


def test_a_negative_block_size_or_enum_symbol_is_refused() -> None:
    skipped_array = everything(1).replace(
        long(-2) + long(16), long(-2) + long(-16)
    )  # "scores", skipped below, claims -16 bytes
    with pytest.raises(AvroError, match="negative block size"):
        list(read_records(container(SCHEMA, [skipped_array]), {2: None}))
    bad_enum = long(1) + string("row 1") + long(0) + long(5)  # "kind" symbol 5 of 2
    with pytest.raises(AvroError, match="enum symbol 5"):
        list(read_records(container(SCHEMA, [bad_enum]), {4: None}))


def test_compiled_readers_are_kept_for_a_bounded_number_of_schemas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from floe_core.iceberg import _avro

    monkeypatch.setattr(_avro, "_MAX_PLANS", 3)
    monkeypatch.setattr(_avro, "_plans", {})
    projection = {1: None}
    for width in range(5):  # five writer schemas, one more field each
        fields = [{"name": f"f{i}", "type": "int", "field-id": i + 1} for i in range(width + 1)]
        schema = {"type": "record", "name": "r", "fields": fields}
        record = b"".join(long(i) for i in range(width + 1))
        assert list(read_records(container(schema, [record]), projection)) == [{1: 0}]
    assert len(_avro._plans) == 3
    assert len(_avro._headers) <= _avro._MAX_HEADERS


def test_a_recursive_schema_is_read_to_its_depth() -> None:
    node = {
        "type": "record",
        "name": "node",
        "fields": [
            {"name": "value", "type": "long", "field-id": 1},
            {"name": "next", "type": ["null", "node"], "field-id": 2},
        ],
    }
    chain = long(1) + long(1) + long(2) + long(1) + long(3) + long(0)  # 1 -> 2 -> 3
    [record] = read_records(container(node, [chain]), {1: None, 2: None})
    assert record == {1: 1, 2: {1: 2, 2: {1: 3, 2: None}}}
    [skipped] = read_records(container(node, [chain]), {1: None})
    assert skipped == {1: 1}


def test_nested_collections_and_unions_of_many_branches() -> None:
    rows = {"type": "array", "items": {"type": "array", "items": "int"}}
    lists = {"type": "map", "values": {"type": "array", "items": "string"}}
    schema = {
        "type": "record",
        "name": "nested",
        "fields": [
            {"name": "grid", "type": rows, "field-id": 1},
            {"name": "index", "type": lists, "field-id": 2},
            {"name": "any", "type": ["long", "string", "null", "double"], "field-id": 3},
            {"name": "later", "type": ["long", "null"], "field-id": 4},
        ],
    }
    grid = long(2) + long(1) + long(7) + long(0) + long(2) + long(8) + long(9) + long(0) + long(0)
    index = long(1) + string("k") + long(2) + string("a") + string("b") + long(0) + long(0)
    record = grid + index + long(1) + string("text") + long(1)  # "later" is null (branch 1)
    second = grid + index + long(3) + struct.pack("<d", 2.5) + long(0) + long(42)
    data = container(schema, [record, second], "deflate")
    projection = {1: None, 2: None, 3: None, 4: None}
    assert list(read_records(data, projection)) == [
        {1: [[7], [8, 9]], 2: {"k": ["a", "b"]}, 3: "text", 4: None},
        {1: [[7], [8, 9]], 2: {"k": ["a", "b"]}, 3: 2.5, 4: 42},
    ]
    assert list(read_records(data, {4: None})) == [{4: None}, {4: 42}]  # all else skipped
    bad_branch = grid + index + long(4)
    with pytest.raises(AvroError, match="union branch 4"):
        list(read_records(container(schema, [bad_branch]), {3: None}))


def test_skipped_bounds_maps_with_block_sizes_are_jumped_over() -> None:
    pairs = {
        "type": "array",
        "logicalType": "map",
        "items": {
            "type": "record",
            "name": "k_v",
            "fields": [
                {"name": "key", "type": "int", "field-id": 11},
                {"name": "value", "type": "bytes", "field-id": 12},
            ],
        },
    }
    schema = {
        "type": "record",
        "name": "file",
        "fields": [
            {"name": "lower", "type": ["null", pairs], "field-id": 1},
            {"name": "upper", "type": ["null", pairs | {"items": "k_v"}], "field-id": 2},
            {"name": "n", "type": "long", "field-id": 3},
        ],
    }
    entries = long(1) + string(b"\x01") + long(2) + string(b"\x02\x02")
    sized = long(1) + long(-2) + long(len(entries)) + entries + long(0)  # a block with its size
    counted = long(1) + long(2) + entries + long(0)
    data = container(schema, [sized + counted + long(5), counted + long(0) + long(6)])
    assert list(read_records(data, {3: None})) == [{3: 5}, {3: 6}]
    assert list(read_records(data, {1: None, 2: None})) == [
        {1: {1: b"\x01", 2: b"\x02\x02"}, 2: {1: b"\x01", 2: b"\x02\x02"}},
        {1: {1: b"\x01", 2: b"\x02\x02"}, 2: None},
    ]


def test_a_known_header_is_reused_only_for_the_same_bytes_and_projection() -> None:
    from floe_core.iceberg import _avro

    _avro.clear_caches()
    first_field, text = {1: None}, {2: None}
    first = container(SCHEMA, [everything(1)])
    again = container(SCHEMA, [everything(2), everything(3)])  # same header, other blocks
    other_codec = container(SCHEMA, [everything(4)], "deflate")
    assert [r[1] for r in read_records(first, first_field)] == [1]
    assert [r[1] for r in read_records(again, first_field)] == [2, 3]
    assert [r[1] for r in read_records(other_codec, first_field)] == [4]
    assert len(_avro._headers) == 2  # the deflate file's header differs in its codec
    assert read_records(again, text) == [{2: "row 2"}, {2: "row 3"}]  # another projection
    assert len(_avro._headers) == 3


def test_skipped_maps_of_different_values_are_each_skipped_by_their_own_type() -> None:
    schema = {
        "type": "record",
        "name": "maps",
        "fields": [
            {"name": "counts", "type": {"type": "map", "values": "long"}, "field-id": 1},
            {"name": "names", "type": {"type": "map", "values": "string"}, "field-id": 2},
            {"name": "ratios", "type": {"type": "map", "values": "double"}, "field-id": 3},
            {"name": "n", "type": "long", "field-id": 4},
        ],
    }
    record = (
        long(1) + string("a") + long(300) + long(0)
        + long(2) + string("b") + string("bee") + string("c") + string("") + long(0)
        + long(1) + string("r") + struct.pack("<d", 0.5) + long(0)
        + long(42)
    )  # fmt: skip
    data = container(schema, [record])
    assert read_records(data, {4: None}) == [{4: 42}]
    assert read_records(data, {2: None, 4: None}) == [{2: {"b": "bee", "c": ""}, 4: 42}]
