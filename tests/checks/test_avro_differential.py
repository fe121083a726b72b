"""The C decoder and floe's generated Python agree on every input, damaged ones included.

Real manifests and manifest lists written by pyiceberg, and the same files with bytes
flipped, cut or inserted at random in their blocks (seeded, so a failure can be replayed):
each input either decodes to the same records with both decoders, or fails with
``AvroError`` with both. The C decoder must never crash, hang or return something Python
would not. A damaged header (the writer schema) must be refused or read, never crash.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pytest

from floe_core import _speedups
from floe_core.iceberg import _avro
from floe_core.iceberg._avro import AvroError, read_records
from floe_core.iceberg._manifests import _LIST, ENTRY, _read_bytes
from floe_core.testing.iceberg import add_position_deletes, create_table

MUTATIONS = 400


@pytest.fixture
def files(catalog: Any) -> list[tuple[bytes, Any]]:
    """(bytes, projection) of every manifest list and manifest of a small table."""
    rows = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": pa.array(["a", None, "c"]),
            "score": pa.array([0.5, 1.5, None]),
        }
    )
    table = create_table(catalog, "fuzz.events", rows.schema)
    table.append(rows)
    table.append(rows)
    path = next(iter(table.scan().plan_files())).file.file_path
    add_position_deletes(table, path, [0])
    table = catalog.load_table("fuzz.events")
    found: list[tuple[bytes, Any]] = []
    for snapshot in table.snapshots():
        found.append((_read_bytes(table.io, snapshot.manifest_list), _LIST))
        for manifest in snapshot.manifests(table.io):
            data = _read_bytes(table.io, manifest.manifest_path)
            found.append((data, ENTRY))
    return found


class Refused:
    """A decoder's AvroError, equal to any other: the message may differ, not the verdict."""

    def __init__(self, error: AvroError) -> None:
        self.message = str(error)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refused)

    def __repr__(self) -> str:
        return f"Refused({self.message!r})"


def decode_with(accelerated: bool) -> Callable[[bytes, Any], Any]:
    def decode(data: bytes, projection: Any) -> Any:
        saved = _speedups._accelerated
        _speedups._accelerated = _speedups.accelerator() if accelerated else None
        _avro.clear_caches()
        try:
            return read_records(data, projection)
        except AvroError as exc:
            return Refused(exc)
        finally:
            _speedups._accelerated = saved
            _avro.clear_caches()

    return decode


def agree(ours: Any, theirs: Any) -> bool:
    """Both read the same records or both refused; or C refused a varint longer than Avro's
    10 bytes, which pyiceberg's decoder reads on (into a value C leaves undefined)."""
    too_long = isinstance(ours, Refused) and "longer than 10 bytes" in ours.message
    return bool(ours == theirs) or (too_long and isinstance(theirs, list))


def header_size(data: bytes, projection: Any) -> int:
    """Where the blocks begin: after the header and its sync marker."""
    _avro.clear_caches()
    read_records(data, projection)
    return len(_avro._headers[0].prefix) + _avro.SYNC_SIZE


def mutations(data: bytes, rng: random.Random, start: int, stop: int) -> Iterator[bytes]:
    """Copies of ``data`` damaged once each, somewhere in ``data[start:stop]``."""
    for _ in range(MUTATIONS):
        damaged = bytearray(data)
        what = rng.randrange(4)
        at = rng.randrange(start, stop)
        if what == 0:  # flip one byte
            damaged[at] ^= 1 << rng.randrange(8)
        elif what == 1:  # a random byte
            damaged[at] = rng.randrange(256)
        elif what == 2:  # cut the file short
            del damaged[at:]
        else:  # insert a byte
            damaged.insert(at, rng.randrange(256))
        yield bytes(damaged)


def test_the_c_decoder_and_generated_python_agree_on_damaged_blocks(
    files: list[tuple[bytes, Any]], speedups: Any
) -> None:
    c, python = decode_with(True), decode_with(False)
    rng = random.Random(20261204)
    outcomes = {"same records": 0, "both refused": 0}
    for data, projection in files:
        intact = c(data, projection)
        assert isinstance(intact, list)
        assert intact == python(data, projection)
        for damaged in mutations(data, rng, header_size(data, projection), len(data)):
            ours, theirs = c(damaged, projection), python(damaged, projection)
            assert agree(ours, theirs), f"C read {ours!r:.300}, Python {theirs!r:.300}"
            outcomes["both refused" if isinstance(ours, Refused) else "same records"] += 1
    assert outcomes["both refused"] > 0, outcomes
    assert outcomes["same records"] > 0, outcomes


def test_a_damaged_header_is_refused_or_read_never_a_crash(
    files: list[tuple[bytes, Any]], speedups: Any
) -> None:
    """A damaged writer schema may still be a valid one: then either decoder may read it."""
    rng = random.Random(4122026)
    for accelerated in (True, False):
        decode = decode_with(accelerated)
        for data, projection in files:
            for damaged in mutations(data, rng, 0, header_size(data, projection)):
                outcome = decode(damaged, projection)
                assert isinstance(outcome, Refused | list)
