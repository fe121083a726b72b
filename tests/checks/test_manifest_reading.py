"""The fast manifest reader agrees with pyiceberg, and immutable manifests are read only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_core.monitoring.checks._manifests import ManifestReader, ManifestSummaries
from floe_core.monitoring.checks._newest import newest_column_value
from floe_core.testing.iceberg import add_position_deletes

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


def describe(files: list[Any]) -> list[tuple[str, int, int, dict[int, bytes]]]:
    return sorted(
        (f.file_path, int(f.content), f.record_count, dict(f.upper_bounds or {})) for f in files
    )


class CountingReader(ManifestReader):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def live_files(self, io: Any, manifest: Any) -> list[Any]:
        self.paths.append(manifest.manifest_path)
        return super().live_files(io, manifest)


@pytest.fixture
def orders(lake: Any) -> Any:
    lake.table("shop.orders", SCHEMA, rows(0, [5, 3]))
    lake.append("shop.orders", rows(10, [2, 9]))
    return lake.load("shop.orders")


def test_fast_reader_lists_the_same_files_as_pyiceberg(lake: Any, orders: Any) -> None:
    data_file = next(iter(orders.scan().plan_files())).file.file_path
    add_position_deletes(orders, data_file, [0])
    table = lake.load("shop.orders")
    reader = ManifestReader()
    for manifest in table.current_snapshot().manifests(table.io):
        expected = [entry.data_file for entry in manifest.fetch_manifest_entry(table.io)]
        assert describe(reader.live_files(table.io, manifest)) == describe(expected)
    assert reader._fast, "the fast path was used, not the fallback"


def test_reader_falls_back_to_pyiceberg_when_its_internals_change(
    orders: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> list[Any]:
        raise AttributeError("module 'pyiceberg.avro.file' has no attribute 'SYNC_SIZE'")

    reader = ManifestReader()
    monkeypatch.setattr(reader, "_read_fast", broken)
    newest = newest_column_value(orders, "updated_at", summaries=ManifestSummaries(reader))
    assert newest.method == "metadata"
    assert newest.value == NOW - timedelta(hours=2)
    assert not reader._fast
    assert "fast manifest reading unavailable" in caplog.text


def test_a_manifest_is_read_once_and_only_new_ones_after_an_append(lake: Any, orders: Any) -> None:
    reader = CountingReader()
    summaries = ManifestSummaries(reader)

    first = newest_column_value(orders, "updated_at", summaries=summaries)
    assert first.value == NOW - timedelta(hours=2)
    assert len(reader.paths) == 2  # one manifest per append

    again = newest_column_value(lake.load("shop.orders"), "updated_at", summaries=summaries)
    assert again == first
    assert len(reader.paths) == 2, "unchanged manifests are not read again"

    table = lake.append("shop.orders", rows(20, [1]))
    newer = newest_column_value(table, "updated_at", summaries=summaries)
    assert newer.value == NOW - timedelta(hours=1)
    assert len(reader.paths) == 3, "only the manifest of the new append is read"


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
    assert len(summaries._cache) == 1


def test_all_null_files_do_not_hide_the_bound(lake: Any, orders: Any) -> None:
    table = lake.append("shop.orders", {"id": [99], "updated_at": [None]})
    newest = newest_column_value(table, "updated_at")
    assert (newest.method, newest.value) == ("metadata", NOW - timedelta(hours=2))
