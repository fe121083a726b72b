"""The fast manifest reader agrees with pyiceberg, and immutable manifests are read only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_core.monitoring.checks import _manifests
from floe_core.monitoring.checks._manifests import (
    ManifestSummaries,
    read_live_files,
    read_manifest_list,
)
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


def test_fast_reader_reads_what_pyiceberg_reads(lake: Any, orders: Any) -> None:
    data_file = next(iter(orders.scan().plan_files())).file.file_path
    add_position_deletes(orders, data_file, [0])
    table = lake.load("shop.orders")
    snapshot = table.current_snapshot()
    manifests = read_manifest_list(table.io, snapshot)
    assert [m.manifest_path for m in manifests] == [
        m.manifest_path for m in snapshot.manifests(table.io)
    ]
    for manifest in manifests:
        expected = [entry.data_file for entry in manifest.fetch_manifest_entry(table.io)]
        assert describe(read_live_files(table.io, manifest)) == describe(expected)
    assert _manifests._fast, "the fast path was used, not the fallback"


def test_reading_falls_back_to_pyiceberg_when_its_internals_change(
    orders: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> list[Any]:
        raise AttributeError("module 'pyiceberg.avro.file' has no attribute 'SYNC_SIZE'")

    monkeypatch.setattr(_manifests, "_read_avro", broken)
    monkeypatch.setattr(_manifests, "_fast", True)
    newest = newest_column_value(orders, "updated_at")
    assert newest.method == "metadata"
    assert newest.value == NOW - timedelta(hours=2)
    assert not _manifests._fast
    assert "fast manifest reading unavailable" in caplog.text


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
