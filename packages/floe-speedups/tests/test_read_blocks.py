"""floe_speedups._avro on its own: plans written out by hand, damage refused with ValueError."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

if not os.environ.get("FLOE_REQUIRE_SPEEDUPS"):  # as .ci/run sets: then a missing build fails
    pytest.importorskip("floe_speedups._avro", reason="floe-speedups is not built")

from floe_speedups._avro import PLAN_VERSION, read_blocks

SYNC = bytes(range(16))
HEADER = b"Obj\x01\x00"  # the magic and an empty metadata map: read_blocks starts at the sync
LONG, STRING, BYTES, UNION, RECORD, ARRAY, PAIRS, NULL = 2, 6, 5, 9, 10, 11, 13, 0
SKIP_VARINTS, SKIP_BYTES = 20, 21
# {id: long, skipped: bytes, name: string, tags: [long], sizes: {int: long}, maybe: [null, long]}
PLAN = (
    RECORD,
    (
        (1, (LONG,)),
        (None, (SKIP_BYTES,)),
        (2, (STRING,)),
        (3, (ARRAY, (LONG,))),
        (4, (PAIRS, (LONG,), (LONG,))),
        (5, (UNION, ((NULL,), (LONG,)))),
    ),
)


ID_NAME = (RECORD, ((1, (LONG,)), (2, (STRING,))))
MAYBE = (RECORD, ((1, (UNION, ((NULL,), (LONG,)))),))


def long(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def record(n: int) -> bytes:
    return b"".join(
        [
            long(n),
            long(3) + b"xyz",
            long(2) + b"r" + str(n).encode(),
            long(2) + long(-n) + long(n * 1000) + long(0),
            long(1) + long(7) + long(n) + long(0),
            long(n % 2) + (long(n) if n % 2 else b""),
        ]
    )


def container(records: list[bytes], compress: bool = False) -> bytes:
    block = b"".join(records)
    if compress:
        packer = zlib.compressobj(wbits=-15)
        block = packer.compress(block) + packer.flush()
    return HEADER + SYNC + long(len(records)) + long(len(block)) + block + SYNC


def expected(n: int) -> dict[int, object]:
    return {1: n, 2: f"r{n}", 3: [-n, n * 1000], 4: {7: n}, 5: n if n % 2 else None}


def test_plans_decode_records_skipping_what_they_skip() -> None:
    assert PLAN_VERSION == 1
    data = container([record(1), record(2)])
    assert read_blocks(data, len(HEADER), PLAN, None) == [expected(1), expected(2)]


def test_a_decompressor_is_called_per_block_and_must_return_bytes() -> None:
    data = container([record(3)], compress=True)
    inflate = lambda raw: zlib.decompress(raw, -15)  # noqa: E731
    assert read_blocks(data, len(HEADER), PLAN, inflate) == [expected(3)]
    with pytest.raises(TypeError, match="must return bytes"):
        read_blocks(data, len(HEADER), PLAN, lambda raw: "text")
    with pytest.raises(zlib.error):
        read_blocks(container([record(3)]), len(HEADER), PLAN, inflate)  # not deflated


@pytest.mark.parametrize(
    ("data", "start", "plan", "message"),
    [
        (container([record(1)])[:-1], len(HEADER), PLAN, "past the end"),
        (container([record(1)])[:-16] + bytes(16), len(HEADER), PLAN, "sync marker"),
        (container([record(1)]), 99_999, PLAN, "ends inside its header"),
        (container([record(1) + b"\x00"]), len(HEADER), PLAN, "do not end where the block"),
        (container([record(1)[:-1]]), len(HEADER), PLAN, "ends inside a number"),
        (container([long(1) + long(10**6)]), len(HEADER), ID_NAME, "runs past the end"),
        (container([long(2) + long(10**6)]), len(HEADER), MAYBE, "union branch 2"),
        (container([long(10**9)]), len(HEADER), (ARRAY, (LONG,)), "more items than the data"),
        (container([b"\xff" * 11]), len(HEADER), (LONG,), "longer than 10 bytes"),
        (container([long(1)]), len(HEADER), (99,), "opcode 99"),
        (container([long(1)]), len(HEADER), (RECORD, ((None, (99,)),)), "opcode 99"),
        (container([long(1)]), len(HEADER), (RECORD, ((1, "long"),)), "not a tuple"),
        (container([long(1)]), len(HEADER), (RECORD, ((1,),)), "not a tuple \\(key, plan\\)"),
        (container([long(1)]), len(HEADER), (ARRAY,), "lacks its arguments"),
        (container([long(1)]), len(HEADER), (UNION, [(LONG,)]), "parts are not a tuple"),
        (container([long(1)]), len(HEADER), (7, -1), "non-negative"),
    ],
)  # fmt: skip
def test_damage_and_bad_plans_raise_value_error(
    data: bytes, start: int, plan: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        read_blocks(data, start, plan, None)


def test_nesting_is_bounded() -> None:
    plan: tuple[object, ...] = (LONG,)
    for _ in range(100):
        plan = (UNION, (plan,))
    with pytest.raises(ValueError, match="nests deeper"):
        read_blocks(container([long(0) * 100 + long(5)]), len(HEADER), plan, None)
    shallow: tuple[object, ...] = (LONG,)
    for _ in range(10):
        shallow = (UNION, (shallow,))
    assert read_blocks(container([long(0) * 10 + long(5)]), len(HEADER), shallow, None) == [5]


def test_skipped_varints_and_bytes() -> None:
    plan = (RECORD, ((None, (SKIP_VARINTS, 3)), (None, (SKIP_BYTES,)), (9, (BYTES,))))
    data = container([long(1) + long(-2) + long(300) + long(2) + b"ab" + long(1) + b"z"])
    assert read_blocks(data, len(HEADER), plan, None) == [{9: b"z"}]


def test_read_file_reads_whole_files_and_names_missing_ones(tmp_path: Path) -> None:
    from floe_speedups._avro import read_file

    for size in (0, 1, 4096, 65536, 300_000):
        path = tmp_path / f"f{size}"
        path.write_bytes(bytes(i % 251 for i in range(size)))
        assert read_file(str(path)) == path.read_bytes()
    with pytest.raises(FileNotFoundError) as missing:
        read_file(str(tmp_path / "gone.avro"))
    assert missing.value.filename == str(tmp_path / "gone.avro")
    with pytest.raises(IsADirectoryError):
        read_file(str(tmp_path))
