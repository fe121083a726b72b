"""Freshness without an element: the commit time of the newest snapshot that added data."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from floe_core.events import CheckResult, CheckStatus, ViolationSeverity
from floe_core.testing.iceberg import add_position_deletes

from .conftest import assert_no_data

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("region", pa.string())])


def contract(lake: Any) -> dict[str, Any]:
    return lake.contract(
        lake.obj("orders", "sales.orders"),
        sla=[{"property": "freshness", "value": "PT2H"}],
    )


def freshness(lake: Any, now: datetime) -> CheckResult:
    [result] = lake.run(contract(lake), now=now, types=["freshness"]).results
    return result


def later_commit() -> None:
    """Make sure the next snapshot's timestamp_ms differs from the previous one."""
    time.sleep(0.01)


def current_operation(lake: Any) -> str:
    return lake.load("sales.orders").current_snapshot().summary.operation.value


def test_age_is_measured_from_the_newest_append(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA, {"id": [1], "region": ["eu"]})
    later_commit()
    lake.append("sales.orders", {"id": [2], "region": ["us"]})
    committed = lake.committed("sales.orders")

    result = freshness(lake, now=committed + timedelta(minutes=30))

    [detail] = result.details["tables"]
    assert detail["method"] == "snapshot"
    assert detail["element"] is None
    assert detail["newest_data"] == committed.isoformat()
    assert detail["age_seconds"] == 1800
    assert detail["consumed_pct"] == 25
    assert result.status is CheckStatus.PASS
    assert result.violation is None


def test_a_replace_snapshot_from_compaction_adds_no_data(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA, {"id": [1], "region": ["eu"]})
    lake.append("sales.orders", {"id": [2], "region": ["us"]})
    appended = lake.committed("sales.orders")
    later_commit()
    lake.compact("sales.orders")
    assert current_operation(lake) == "replace"
    assert len(lake.load("sales.orders").scan().to_arrow()) == 2

    result = freshness(lake, now=appended + timedelta(hours=3))

    assert result.details["tables"][0]["newest_data"] == appended.isoformat()
    assert result.status is CheckStatus.FAIL
    assert result.violation is not None
    assert result.violation.severity is ViolationSeverity.ERROR
    assert result.violation.element is None


def test_a_delete_snapshot_adds_no_data(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA, {"id": [1], "region": ["eu"]})
    table = lake.append("sales.orders", {"id": [2], "region": ["us"]})
    appended = lake.committed("sales.orders")
    later_commit()
    table.delete("id == 1")  # drops the whole first data file
    assert current_operation(lake) == "delete"

    result = freshness(lake, now=appended + timedelta(hours=1))

    assert result.details["tables"][0]["newest_data"] == appended.isoformat()


def test_a_commit_of_delete_files_only_adds_no_data(lake: Any) -> None:
    table = lake.table("sales.orders", SCHEMA, {"id": [1, 2], "region": ["eu", "us"]})
    appended = lake.committed("sales.orders")
    [task] = table.scan().plan_files()
    later_commit()
    add_position_deletes(table, task.file.file_path, [0])
    assert lake.load("sales.orders").current_snapshot().summary.get("added-delete-files") == "1"
    assert lake.committed("sales.orders") > appended

    result = freshness(lake, now=appended + timedelta(hours=1))

    assert result.details["tables"][0]["newest_data"] == appended.isoformat()


def test_an_empty_append_adds_no_data(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA, {"id": [1], "region": ["eu"]})
    appended = lake.committed("sales.orders")
    later_commit()
    lake.append("sales.orders", {"id": [], "region": []})
    assert lake.committed("sales.orders") > appended

    result = freshness(lake, now=appended + timedelta(hours=1))

    assert result.details["tables"][0]["newest_data"] == appended.isoformat()


def _no_snapshot(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA)


def _empty_append(lake: Any) -> None:
    lake.table("sales.orders", SCHEMA, {"id": [], "region": []})


def _everything_deleted(lake: Any) -> None:
    table = lake.table("sales.orders", SCHEMA, {"id": [1, 2], "region": ["eu", "us"]})
    table.delete("id >= 0")


@pytest.mark.parametrize("build", [_no_snapshot, _empty_append, _everything_deleted])
def test_a_table_without_data_is_a_no_data_error(lake: Any, build: Any) -> None:
    build(lake)

    result = freshness(lake, now=datetime.now().astimezone())

    assert assert_no_data(result, "age <= 2h")["method"] == "snapshot"
