"""The projecting manifest reader agrees with pyiceberg; immutable manifests are read once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.manifest import ManifestEntryStatus
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import LongType, NestedField, StringType, StructType, TimestamptzType

from floe_core.iceberg import _manifests
from floe_core.iceberg._avro import AvroError
from floe_core.iceberg._manifests import (
    ManifestSummaries,
    read_live_files,
    read_manifest_list,
)
from floe_core.iceberg._newest import newest_column_value
from floe_core.testing.iceberg import add_equality_deletes, add_position_deletes

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=False),
    NestedField(2, "updated_at", TimestamptzType(), required=False),
)
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def rows(start: int, hours_ago: list[int]) -> dict[str, list[Any]]:
    return {
        "id": list(range(start, start + len(hours_ago))),
        "updated_at": [NOW - timedelta(hours=h) for h in hours_ago],
    }


def describe(files: list[Any]) -> list[tuple[Any, ...]]:
    """floe's ``LiveFile``s or pyiceberg's ``DataFile``s, as comparable tuples."""
    return sorted(
        (
            f.file_path,
            int(f.content),
            str(getattr(f.file_format, "value", f.file_format)).upper(),
            f.record_count,
            *(
                sorted(dict(stats).items()) if stats is not None else None
                for stats in (f.null_value_counts, f.lower_bounds, f.upper_bounds)
            ),
        )
        for f in files
    )


def assert_reads_as_pyiceberg(table: Any) -> int:
    """Every manifest list and manifest of every snapshot reads as pyiceberg reads it."""
    checked = 0
    for snapshot in table.snapshots():
        manifests = read_manifest_list(table.io, snapshot)
        theirs = snapshot.manifests(table.io)
        assert [(m.manifest_path, m.content) for m in manifests] == [
            (m.manifest_path, int(m.content)) for m in theirs
        ]
        for ours, their in zip(manifests, theirs, strict=True):
            expected = [entry.data_file for entry in their.fetch_manifest_entry(table.io)]
            assert describe(read_live_files(table.io, ours)) == describe(expected)
            checked += 1
    return checked


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the manifests and manifest lists read from storage, in order."""
    paths: list[str] = []
    real_manifest, real_list = _manifests.read_live_files, _manifests.read_manifest_list

    def manifest(io: Any, m: Any) -> list[Any]:
        paths.append(m.manifest_path)
        return real_manifest(io, m)

    def manifest_list(io: Any, snapshot: Any) -> list[Any]:
        paths.append(snapshot.manifest_list)
        return real_list(io, snapshot)

    monkeypatch.setattr(_manifests, "read_live_files", manifest)
    monkeypatch.setattr(_manifests, "read_manifest_list", manifest_list)
    return paths


@pytest.fixture
def orders(lake: Any) -> Any:
    lake.table("shop.orders", SCHEMA, rows(0, [5, 3]))
    lake.append("shop.orders", rows(10, [2, 9]))
    return lake.load("shop.orders")


def test_projected_reader_reads_what_pyiceberg_reads(
    lake: Any, orders: Any, caplog: pytest.LogCaptureFixture
) -> None:
    data_file = next(iter(orders.scan().plan_files())).file.file_path
    add_position_deletes(orders, data_file, [0])
    assert assert_reads_as_pyiceberg(lake.load("shop.orders")) >= 4
    assert "with pyiceberg" not in caplog.text, "the projected reader read every file"


@pytest.mark.parametrize(("version", "codec"), [("1", "null"), ("2", "gzip"), ("2", "zstd")])
def test_every_format_version_codec_and_entry_kind_reads_as_pyiceberg(
    lake: Any, version: str, codec: str, caplog: pytest.LogCaptureFixture
) -> None:
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "updated_at", TimestamptzType(), required=False),
        NestedField(3, "region", StringType(), required=False),
        NestedField(
            4,
            "address",
            StructType(NestedField(5, "city", StringType(), required=False)),
            required=False,
        ),
    )
    spec = PartitionSpec(PartitionField(3, 1000, IdentityTransform(), "region"))
    properties = {"format-version": version, "write.avro.compression-codec": codec}
    lake.catalog.create_namespace_if_not_exists("mixed")
    table = lake.catalog.create_table(
        "mixed.events", schema=schema, partition_spec=spec, properties=properties
    )

    def batch(start: int, regions: list[str | None]) -> pa.Table:
        return pa.table(
            {
                "id": list(range(start, start + len(regions))),
                "updated_at": [NOW - timedelta(days=i) for i in range(len(regions))],
                "region": regions,
                "address": [{"city": None if i % 2 else f"c{i}"} for i in range(len(regions))],
            },
            schema=schema.as_arrow(),
        )

    table.append(batch(0, ["eu", "us", None, "eu"]))
    table.append(batch(10, ["us", "us"]))
    table.delete("id >= 10")  # removes whole files: manifests with DELETED entries
    if version == "2":
        table = lake.load("mixed.events")
        data_file = next(iter(table.scan().plan_files())).file
        add_position_deletes(table, data_file.file_path, [0], data_file.partition)
        equality = pa.table({"id": pa.array([1], pa.int64())})
        add_equality_deletes(lake.load("mixed.events"), equality, [1], data_file.partition)
    table = lake.load("mixed.events")
    assert assert_reads_as_pyiceberg(table) >= 3
    assert "with pyiceberg" not in caplog.text, "the projected reader read every file"
    manifests = [m for snapshot in table.snapshots() for m in snapshot.manifests(table.io)]
    entries = [e for m in manifests for e in m.fetch_manifest_entry(table.io, False)]
    assert any(e.status == ManifestEntryStatus.DELETED for e in entries), "deleted entries"
    expected = {0, 1, 2} if version == "2" else {0}
    assert {int(e.data_file.content) for e in entries} == expected


def test_a_file_the_projected_reader_cannot_read_is_read_by_pyiceberg(
    lake: Any, orders: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable(data: bytes, projection: Any) -> Any:
        raise AvroError("unsupported Avro type 'decimal128'")

    monkeypatch.setattr(_manifests, "read_records", unreadable)
    monkeypatch.setattr(_manifests, "_warned", False)
    assert assert_reads_as_pyiceberg(orders) == 3
    newest = newest_column_value(orders, "updated_at")
    assert (newest.method, newest.value) == ("metadata", NOW - timedelta(hours=2))
    assert caplog.text.count("with pyiceberg, slower: unsupported Avro type") == 1, (
        "one warning per process, not one per file"
    )


def test_files_are_read_once_and_only_new_ones_after_an_append(
    lake: Any, orders: Any, reads: list[str]
) -> None:
    summaries = ManifestSummaries()

    first = newest_column_value(orders, "updated_at", summaries=summaries)
    assert first.value == NOW - timedelta(hours=2)
    assert len(reads) == 3  # the manifest list and one manifest per append

    again = newest_column_value(lake.load("shop.orders"), "updated_at", summaries=summaries)
    assert again == first
    assert len(reads) == 3, "unchanged files are not read again"

    table = lake.append("shop.orders", rows(20, [1]))
    newer = newest_column_value(table, "updated_at", summaries=summaries)
    assert newer.value == NOW - timedelta(hours=1)
    assert reads[3:] == [
        table.current_snapshot().manifest_list,
        table.current_snapshot().manifests(table.io)[0].manifest_path,
    ], "only the new manifest list and the manifest of the new append are read"


def test_cached_summaries_still_see_new_delete_files(lake: Any, orders: Any) -> None:
    summaries = ManifestSummaries()
    assert newest_column_value(orders, "updated_at", summaries=summaries).method == "metadata"
    data_file = next(iter(orders.scan().plan_files())).file.file_path
    add_position_deletes(orders, data_file, [0])
    after = newest_column_value(lake.load("shop.orders"), "updated_at", summaries=summaries)
    assert after.method == "scan"
    assert "delete file" in (after.fallback_reason or "")


def test_cache_keeps_at_most_its_capacity(lake: Any, orders: Any) -> None:
    summaries = ManifestSummaries(capacity=1)
    newest_column_value(orders, "updated_at", summaries=summaries)
    assert len(summaries) == 1


def test_all_null_files_do_not_hide_the_bound(lake: Any, orders: Any) -> None:
    table = lake.append("shop.orders", {"id": [99], "updated_at": [None]})
    newest = newest_column_value(table, "updated_at")
    assert (newest.method, newest.value) == ("metadata", NOW - timedelta(hours=2))


def test_a_manifest_that_cannot_be_opened_fails_with_its_own_error(
    orders: Any, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = read_manifest_list(orders.io, orders.current_snapshot())[0]
    Path(manifest.manifest_path.removeprefix("file://")).unlink()
    with pytest.raises(FileNotFoundError):
        read_live_files(orders.io, manifest)
    assert "with pyiceberg" not in caplog.text, "an unreadable file is not a decoding problem"
