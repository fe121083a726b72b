"""What holds for every check: skipping, timeouts, errors, and no row values in any event."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from floe_core.config import MonitoringConfig
from floe_core.events import CheckStatus, ViolationType
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome
from floe_core.monitoring.checks.freshness import FreshnessCheck
from floe_core.monitoring.checks.schema_drift import SchemaDriftCheck
from floe_core.testing.iceberg import add_position_deletes

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


class WaitingCheck(Check):
    """A check that hangs (like a stuck catalog call) until released."""

    check_type = ViolationType.QUALITY

    def __init__(self) -> None:
        self.release = threading.Event()
        self.thread: threading.Thread | None = None

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        self.thread = threading.current_thread()
        self.release.wait(timeout=30)
        return CheckOutcome(CheckStatus.PASS)


class CrashingCheck(Check):
    check_type = ViolationType.QUALITY

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        raise RuntimeError("unexpected state in the check")


@pytest.mark.parametrize(
    "sla",
    [[], [{"property": "retention", "value": 1, "unit": "y"}]],
    ids=["no-sla", "other-sla"],
)
def test_checks_without_their_sla_are_skipped_with_a_reason(
    lake: Any, sla: list[dict[str, Any]]
) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "updated_at": [NOW]})
    contract = lake.contract(lake.obj("orders", "sales.orders"), sla=sla)

    report = lake.run(contract, now=NOW)

    by_type = {r.check_type: r for r in report.results}
    assert set(by_type) == set(ViolationType)
    # Availability needs no SLA to probe; every other check is skipped, saying why.
    assert by_type.pop(ViolationType.AVAILABILITY).status is CheckStatus.PASS
    assert "endOfSupport" in by_type[ViolationType.DEPRECATION].details["reason"]
    assert "quality" in by_type[ViolationType.QUALITY].details["reason"]
    for result in by_type.values():
        assert result.status is CheckStatus.SKIPPED
        assert result.violation is None
    assert "latency" in by_type[ViolationType.FRESHNESS].details["reason"]
    assert "properties" in by_type[ViolationType.SCHEMA_DRIFT].details["reason"]
    assert report.violations == []


def test_a_check_past_check_timeout_seconds_errors_promptly(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "updated_at": [NOW - timedelta(hours=1)]})
    contract = lake.contract(
        lake.obj("orders", "sales.orders"),
        sla=[{"property": "latency", "value": 6, "unit": "h", "element": "updated_at"}],
    )
    waiting = WaitingCheck()
    checks = {ViolationType.QUALITY: waiting, ViolationType.FRESHNESS: FreshnessCheck()}

    started = time.monotonic()
    try:
        report = lake.run(
            contract, now=NOW, config=MonitoringConfig(check_timeout_seconds=1), checks=checks
        )
        elapsed = time.monotonic() - started
    finally:
        waiting.release.set()
        if waiting.thread is not None:
            waiting.thread.join(timeout=5)  # a late result must be dropped quietly

    by_type = {r.check_type: r for r in report.results}
    timed_out = by_type[ViolationType.QUALITY]
    assert timed_out.status is CheckStatus.ERROR
    assert timed_out.details["reason"] == "timeout"
    assert "check_timeout_seconds" in timed_out.details["message"]
    assert 1 <= timed_out.duration_seconds < 5
    assert elapsed < 5
    assert by_type[ViolationType.FRESHNESS].status is CheckStatus.PASS


def test_a_crashing_check_is_an_error_result(lake: Any) -> None:
    lake.table("sales.orders", ORDERS)
    contract = lake.contract(lake.obj("orders", "sales.orders"))

    report = lake.run(contract, checks={ViolationType.QUALITY: CrashingCheck()})

    [result] = report.results
    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "internal_error"
    assert "RuntimeError" in result.details["message"]


def test_a_missing_table_is_an_error_for_each_check(lake: Any) -> None:
    lake.catalog.create_namespace("sales")
    contract = lake.contract(
        lake.obj("orders", "sales.orders", [{"name": "id", "logicalType": "integer"}]),
        sla=[{"property": "latency", "value": 6, "unit": "h"}],
    )

    report = lake.run(contract, now=NOW)

    by_type = {r.check_type: r for r in report.results}
    # A missing table is an availability failure; the checks that read it cannot run.
    availability = by_type.pop(ViolationType.AVAILABILITY)
    assert availability.status is CheckStatus.FAIL
    assert [v.violation_type for v in report.violations] == [ViolationType.AVAILABILITY]
    assert by_type.pop(ViolationType.DEPRECATION).status is CheckStatus.SKIPPED
    assert by_type.pop(ViolationType.QUALITY).status is CheckStatus.SKIPPED  # no rules
    assert set(by_type) == {ViolationType.FRESHNESS, ViolationType.SCHEMA_DRIFT}
    for result in by_type.values():
        assert result.status is CheckStatus.ERROR
        assert result.details["reason"] == "table_not_found"
        assert "sales.orders" in result.details["message"]


def test_tables_resolve_through_the_iceberg_server_namespace(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "updated_at": [NOW - timedelta(hours=1)]})
    contract = lake.contract(
        {"name": "orders", "properties": [{"name": "id", "logicalType": "integer"}]},
        sla=[{"property": "latency", "value": 6, "unit": "h", "element": "updated_at"}],
    )
    contract["servers"] = [{"server": "lake", "type": "iceberg", "namespace": "sales"}]

    report = lake.run(contract, now=NOW)

    by_type = {r.check_type: r for r in report.results}
    assert by_type[ViolationType.FRESHNESS].details["tables"][0]["table"] == "sales.orders"
    assert by_type[ViolationType.SCHEMA_DRIFT].details["tables"][0]["table"] == "sales.orders"


def test_a_schema_object_without_a_table_is_an_error_that_says_how_to_fix_it(lake: Any) -> None:
    contract = lake.contract(
        {"name": "orders", "properties": [{"name": "id", "logicalType": "integer"}]},
        sla=[{"property": "latency", "value": 6, "unit": "h"}],
    )

    catalog_checks = [
        ViolationType.FRESHNESS,
        ViolationType.SCHEMA_DRIFT,
        ViolationType.AVAILABILITY,
    ]
    report = lake.run(contract, now=NOW, types=catalog_checks)

    assert [r.check_type for r in report.results] == catalog_checks
    for result in report.results:
        assert result.status is CheckStatus.ERROR
        assert result.details["reason"] == "table_unresolved"
        assert "physicalName" in result.details["message"]


# Values written into the table; none may appear in an event.
SECRETS = {
    "name": ["Zebulon Quartermaine", "Ottilie Featherstonehaugh", "Bartholomew Nkemelu"],
    "ssn": ["078-05-1120", "219-09-9999", "457-55-5462"],
    "street": ["17 Cherry Tree Lane", "221B Baker Street", "742 Evergreen Terrace"],
    "tag": ["vip-platinum-77", "churn-risk-high", "fraud-watch-3"],
    "note": ["prefers-night-calls", "owes-us-money", "allergic-to-peanuts"],
}


@pytest.fixture
def customers_with_values(lake: Any) -> Any:
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("name", pa.string()),
            pa.field("ssn", pa.string()),
            pa.field("address", pa.struct([pa.field("street", pa.string())])),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("notes", pa.map_(pa.string(), pa.string())),
            pa.field("updated_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    table = lake.table(
        "crm.customers",
        schema,
        {
            "id": [1, 2, 3],
            "name": SECRETS["name"],
            "ssn": SECRETS["ssn"],
            "address": [{"street": s} for s in SECRETS["street"]],
            "tags": [[t] for t in SECRETS["tag"]],
            "notes": [[(n, n.upper())] for n in SECRETS["note"]],
            "updated_at": [NOW - timedelta(hours=h) for h in (30, 20, 10)],
        },
    )
    [path] = [task.file.file_path for task in table.scan().plan_files()]
    written = pq.read_table(path.removeprefix("file://"))
    newest = pc.index(written["updated_at"], pc.max(written["updated_at"])).as_py()
    add_position_deletes(table, path, [newest])  # forces the scan path over the rows
    return lake.load("crm.customers")


def test_events_never_carry_row_values(lake: Any, customers_with_values: Any) -> None:
    from pyiceberg.types import LongType

    with customers_with_values.update_schema() as update:
        update.add_column("segment", LongType())
    contract = lake.contract(
        lake.obj(
            "customers",
            "crm.customers",
            [
                {"name": "id", "logicalType": "string", "required": True},  # type_changed
                {"name": "name", "logicalType": "string", "required": True},  # nullability
                {"name": "tax_id", "logicalType": "string"},  # removed; ssn is added
                {
                    "name": "address",
                    "logicalType": "object",
                    "properties": [{"name": "street", "logicalType": "integer"}],
                },
                {"name": "tags", "logicalType": "array", "items": {"logicalType": "integer"}},
                {
                    "name": "notes",
                    "logicalType": "object",
                    "map": {"value": {"logicalType": "integer"}},
                },
                {"name": "updated_at", "logicalType": "date", "primaryKey": True},
            ],
        ),
        sla=[{"property": "latency", "value": 2, "unit": "h", "element": "updated_at"}],
        name="customers",
    )

    report = lake.run(contract, now=NOW)

    kinds = {e.metadata.get("change") for e in report.violations}
    assert kinds >= {
        "column_added",
        "column_removed",
        "type_changed",
        "nullability_changed",
        "constraint_changed",
    }
    assert any(e.violation_type is ViolationType.FRESHNESS for e in report.violations)
    values = [v for column in SECRETS.values() for v in column] + [
        n.upper() for n in SECRETS["note"]
    ]
    for event in report.violations:
        shown = [event.message, event.expected_value or "", event.actual_value or ""]
        shown += [event.element or "", *event.metadata.values()]
        for value in values:
            assert all(value not in text for text in shown), (value, event)
    whole_report = report.model_dump_json()
    assert not [value for value in values if value in whole_report]


def test_each_run_of_a_long_lived_check_reads_the_live_schema(lake: Any) -> None:
    lake.table("sales.orders", ORDERS, {"id": [1], "updated_at": [NOW]})
    drift = SchemaDriftCheck()
    monitor = lake.monitor(checks={ViolationType.SCHEMA_DRIFT: drift})
    contract = lake.contract(
        lake.obj(
            "orders",
            "sales.orders",
            [{"name": "id", "logicalType": "integer", "required": True}],
        ),
    )
    name = monitor.register(lake.write_contract(contract)).contract_name

    first = asyncio.run(monitor.run(name))
    lake.load("sales.orders").update_schema().delete_column("updated_at").commit()
    second = asyncio.run(monitor.run(name))

    assert {e.element for e in first.violations} == {"updated_at"}
    assert second.violations == []
    assert monitor.available_checks == [ViolationType.SCHEMA_DRIFT]
