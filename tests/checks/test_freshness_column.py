"""Freshness judged by an element column: exact from manifests when they can be, else a scan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from floe_core.events import CheckResult, CheckStatus, ViolationSeverity
from floe_core.testing.iceberg import add_equality_deletes, add_position_deletes

from .conftest import assert_no_data

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("customer", pa.string()),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
NO_METRICS = {"write.metadata.metrics.default": "none"}


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in hours]


def orders_contract(
    lake: Any, element: str = "orders.updated_at", hours: float = 6
) -> dict[str, Any]:
    return lake.contract(
        lake.obj("orders", "sales.orders"),
        sla=[{"property": "latency", "value": hours, "unit": "h", "element": element}],
    )


def freshness(lake: Any, contract: dict[str, Any], now: datetime = NOW) -> CheckResult:
    [result] = lake.run(contract, now=now, types=["freshness"]).results
    return result


def only_table(result: CheckResult) -> dict[str, Any]:
    [detail] = result.details["tables"]
    return detail


def data_files(table: Any) -> list[str]:
    return [task.file.file_path for task in table.scan().plan_files()]


def test_exact_bounds_are_read_from_manifests_without_touching_data_files(lake: Any) -> None:
    lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2], "customer": ["a", "b"], "updated_at": hours_ago(5, 4)},
    )
    table = lake.append("sales.orders", {"id": [3], "customer": ["c"], "updated_at": hours_ago(2)})
    files = data_files(table)
    assert len(files) == 2
    # With the Parquet files gone, only the manifests can give the answer.
    for path in files:
        Path(path.removeprefix("file://")).unlink()

    result = freshness(lake, orders_contract(lake))

    detail = only_table(result)
    assert detail["method"] == "metadata"
    assert "fallback_reason" not in detail
    assert detail["table"] == "sales.orders"
    assert detail["element"] == "updated_at"
    assert detail["newest_data"] == (NOW - timedelta(hours=2)).isoformat()
    assert detail["age_seconds"] == 7200
    assert result.status is CheckStatus.PASS
    assert result.violation is None


def test_positional_delete_of_the_newest_row_reports_the_next_newest(lake: Any) -> None:
    table = lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2, 3], "customer": ["a", "b", "c"], "updated_at": hours_ago(5, 3, 1)},
    )
    [path] = data_files(table)
    written = pq.read_table(path.removeprefix("file://"))
    newest_row = pc.index(written["updated_at"], pc.max(written["updated_at"])).as_py()
    add_position_deletes(table, path, [newest_row])
    assert 3 not in lake.load("sales.orders").scan().to_arrow()["id"].to_pylist()

    # The manifest still says 1h old; the live rows say 3h, beyond the 2h SLA.
    result = freshness(lake, orders_contract(lake, hours=2))

    detail = only_table(result)
    assert detail["method"] == "scan"
    assert "delete file" in detail["fallback_reason"]
    assert detail["newest_data"] == (NOW - timedelta(hours=3)).isoformat()
    assert detail["age_seconds"] == 3 * 3600
    assert result.status is CheckStatus.FAIL
    assert result.violation is not None
    assert result.violation.severity is ViolationSeverity.ERROR
    assert result.violation.actual_value == "age 3h"


def test_positional_delete_of_an_older_row_keeps_the_newest(lake: Any) -> None:
    table = lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2], "customer": ["a", "b"], "updated_at": hours_ago(5, 4)},
    )
    [old_file] = data_files(table)
    table = lake.append("sales.orders", {"id": [3], "customer": ["c"], "updated_at": hours_ago(1)})
    add_position_deletes(table, old_file, [0, 1])

    detail = only_table(freshness(lake, orders_contract(lake)))

    assert detail["method"] == "scan"
    assert detail["newest_data"] == (NOW - timedelta(hours=1)).isoformat()


def test_equality_deletes_make_the_check_error_instead_of_guessing(lake: Any) -> None:
    table = lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2, 3], "customer": ["a", "b", "c"], "updated_at": hours_ago(5, 3, 1)},
    )
    id_field = table.schema().find_field("id").field_id
    add_equality_deletes(table, pa.table({"id": pa.array([3], pa.int64())}), [id_field])

    report = lake.run(orders_contract(lake), now=NOW, types=["freshness"])

    [result] = report.results
    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "equality_deletes"
    assert "equality delete" in result.details["message"]
    assert result.violation is None
    assert report.violations == []


@pytest.mark.parametrize(
    "properties",
    [
        pytest.param(NO_METRICS, id="metrics-default-none"),
        pytest.param({"write.metadata.metrics.column.updated_at": "none"}, id="column-none"),
        pytest.param({"write.metadata.metrics.column.updated_at": "counts"}, id="column-counts"),
    ],
)
def test_without_column_bounds_it_falls_back_to_a_scan(
    lake: Any, properties: dict[str, str]
) -> None:
    table = lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2], "customer": ["a", "b"], "updated_at": hours_ago(9, 2.5)},
        properties=properties,
    )
    [task] = table.scan().plan_files()
    field_id = table.schema().find_field("updated_at").field_id
    assert field_id not in (task.file.upper_bounds or {})

    detail = only_table(freshness(lake, orders_contract(lake)))

    assert detail["method"] == "scan"
    assert "no upper bound" in detail["fallback_reason"]
    assert detail["newest_data"] == (NOW - timedelta(hours=2.5)).isoformat()
    assert detail["age_seconds"] == 2.5 * 3600


def test_the_scan_reads_only_the_sla_column(lake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyiceberg.table import Table

    lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1], "customer": ["a"], "updated_at": hours_ago(1)},
        properties=NO_METRICS,
    )
    selections: list[tuple[str, ...]] = []
    real_scan = Table.scan

    def recording_scan(self: Any, *args: Any, **kwargs: Any) -> Any:
        scan = real_scan(self, *args, **kwargs)
        selections.append(tuple(scan.selected_fields))
        return scan

    monkeypatch.setattr(Table, "scan", recording_scan)

    detail = only_table(freshness(lake, orders_contract(lake)))

    assert detail["method"] == "scan"
    assert selections == [("updated_at",)]


@pytest.mark.parametrize("properties", [{}, NO_METRICS], ids=["metadata", "scan"])
def test_date_column_counts_from_midnight_utc(lake: Any, properties: dict[str, str]) -> None:
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("order_date", pa.date32())])
    lake.table(
        "sales.daily",
        schema,
        {"id": [1, 2], "order_date": [date(2024, 5, 28), date(2024, 6, 1)]},
        properties=properties,
    )
    contract = lake.contract(
        lake.obj("daily", "sales.daily"),
        sla=[{"property": "latency", "value": 1, "unit": "d", "element": "order_date"}],
    )

    result = freshness(lake, contract, now=datetime(2024, 6, 1, 20, 0, tzinfo=UTC))

    detail = only_table(result)
    assert detail["method"] == ("scan" if properties else "metadata")
    assert detail["newest_data"] == "2024-06-01T00:00:00+00:00"
    assert detail["age_seconds"] == 20 * 3600
    assert result.status is CheckStatus.PASS
    assert result.violation is not None
    assert result.violation.severity is ViolationSeverity.INFO  # 20h of 24h is 83%


@pytest.mark.parametrize("properties", [{}, NO_METRICS], ids=["metadata", "scan"])
def test_timestamp_without_timezone_is_read_as_utc(lake: Any, properties: dict[str, str]) -> None:
    schema = pa.schema([pa.field("id", pa.int64()), pa.field("loaded_at", pa.timestamp("us"))])
    naive = datetime(2024, 6, 1, 9, 0)
    lake.table(
        "sales.loads",
        schema,
        {"id": [1, 2], "loaded_at": [naive - timedelta(days=1), naive]},
        properties=properties,
    )
    contract = lake.contract(
        lake.obj("loads", "sales.loads"),
        sla=[{"property": "latency", "value": 2, "unit": "h", "element": "loaded_at"}],
    )

    result = freshness(lake, contract)

    detail = only_table(result)
    assert detail["method"] == ("scan" if properties else "metadata")
    assert detail["newest_data"] == "2024-06-01T09:00:00+00:00"
    assert detail["age_seconds"] == 3 * 3600
    assert result.status is CheckStatus.FAIL


def test_column_in_a_struct_is_found_by_its_dotted_path(lake: Any) -> None:
    schema = pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("event", pa.struct([pa.field("emitted_at", pa.timestamp("us", tz="UTC"))])),
        ]
    )
    lake.table(
        "sales.events",
        schema,
        {"id": [1, 2, 3], "event": [{"emitted_at": t} for t in hours_ago(4, 1.5, 3)]},
    )
    contract = lake.contract(
        lake.obj("events", "sales.events"),
        sla=[{"property": "latency", "value": 6, "unit": "h", "element": "event.emitted_at"}],
    )

    detail = only_table(freshness(lake, contract))

    assert detail["newest_data"] == (NOW - timedelta(hours=1.5)).isoformat()
    assert detail["method"] == "metadata" or detail["fallback_reason"]


def test_table_dot_column_element_picks_that_table(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "customer": ["a"], "updated_at": hours_ago(1)})
    lake.table("sales.returns", ORDERS, {"id": [1], "customer": ["a"], "updated_at": hours_ago(30)})
    column = [{"name": "updated_at", "logicalType": "date"}]
    objects = [
        lake.obj("orders", "sales.orders", column),
        lake.obj("returns", "sales.returns", column),
    ]

    only_orders = freshness(lake, orders_contract(lake) | {"schema": objects})
    bare_column = freshness(lake, orders_contract(lake, element="updated_at") | {"schema": objects})

    assert [t["table"] for t in only_orders.details["tables"]] == ["sales.orders"]
    assert only_orders.status is CheckStatus.PASS
    assert [t["table"] for t in bare_column.details["tables"]] == ["sales.orders", "sales.returns"]
    assert bare_column.status is CheckStatus.FAIL
    assert bare_column.violation is not None
    assert bare_column.violation.metadata["table"] == "sales.returns"


def test_sla_default_element_applies_when_the_sla_names_none(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "customer": ["a"], "updated_at": hours_ago(1)})
    contract = orders_contract(lake)
    del contract["slaProperties"][0]["element"]
    contract["slaDefaultElement"] = "orders.updated_at"

    detail = only_table(freshness(lake, contract))

    assert detail["element"] == "updated_at"
    assert detail["method"] == "metadata"
    assert detail["newest_data"] == (NOW - timedelta(hours=1)).isoformat()


def test_column_names_match_case_insensitively(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "customer": ["a"], "updated_at": hours_ago(1)})

    detail = only_table(freshness(lake, orders_contract(lake, element="orders.Updated_At")))

    assert detail["newest_data"] == (NOW - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("element", "reason"),
    [("orders.shipped_at", "column_not_found"), ("orders.customer", "unsupported_column_type")],
)
def test_unusable_element_column_is_an_error(lake: Any, element: str, reason: str) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "customer": ["a"], "updated_at": hours_ago(1)})

    result = freshness(lake, orders_contract(lake, element=element))

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == reason
    assert element.split(".")[1] in result.details["message"]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(None, id="no-snapshot"),
        pytest.param({"id": [], "customer": [], "updated_at": []}, id="empty-append"),
        pytest.param(
            {"id": [1, 2], "customer": ["a", "b"], "updated_at": [None, None]}, id="nulls"
        ),
    ],
)
def test_no_value_in_the_column_is_a_no_data_error(
    lake: Any, rows: dict[str, list[Any]] | None
) -> None:
    lake.table("sales.orders", ORDERS, rows)

    result = freshness(lake, orders_contract(lake))

    assert_no_data(result, "age <= 6h")
    assert result.violation is not None
    assert result.violation.metadata["reason"] == "no_data"
