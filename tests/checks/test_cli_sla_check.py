"""``floe sla check --format json``: one JSON report, and the exit status the options promise.

The CLI reads the real clock, so the ages here keep wide margins around every band edge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import IntegerType, LongType, NestedField, StringType, StructType

from floe_core.testing.iceberg import add_equality_deletes

ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
REPORT_KEYS = {"contract_name", "contract_version", "results", "violations"}


def orders_aged(lake: Any, hours: float) -> None:
    """sales.orders whose newest row is ``hours`` old now."""
    now = datetime.now(UTC)
    lake.table(
        "sales.orders",
        ORDERS,
        {"id": [1, 2], "updated_at": [now - timedelta(days=3), now - timedelta(hours=hours)]},
    )


def freshness_contract(
    lake: Any, hours: float = 10, element: str | None = "updated_at"
) -> dict[str, Any]:
    sla: dict[str, Any] = {"property": "latency", "value": hours, "unit": "h"}
    if element:
        sla["element"] = element
    return lake.contract(lake.obj("orders", "sales.orders"), sla=[sla])


def result_of(document: dict[str, Any], check_type: str) -> dict[str, Any]:
    [result] = [r for r in document["results"] if r["check_type"] == check_type]
    return result


def test_json_is_one_report_object_with_early_warnings(lake: Any) -> None:
    orders_aged(lake, 8.5)

    result, document = lake.cli(freshness_contract(lake))

    assert result.exit_code == 0, result.stderr
    assert result.exception is None
    assert document is not None
    assert set(document) == REPORT_KEYS
    assert (document["contract_name"], document["contract_version"]) == ("orders", "1.2.0")
    assert {r["check_type"]: r["status"] for r in document["results"]} == {
        "freshness": "pass",
        "schema_drift": "skipped",
        "quality": "skipped",
        "availability": "pass",
        "deprecation": "skipped",
    }
    [event] = document["violations"]
    assert event["severity"] == "info"
    assert event["violation_type"] == "freshness"
    assert event["element"] == "updated_at"
    assert event["expected_value"] == "age <= 10h"
    assert event["actual_value"].startswith("age 8h 3")
    assert result_of(document, "freshness")["violation"] == event


@pytest.mark.parametrize(
    ("age_hours", "severity", "status", "exit_code"),
    [
        (1, None, "pass", 0),
        (8.5, "info", "pass", 0),
        (9.5, "warning", "pass", 0),
        (12, "error", "fail", 1),
    ],
)
def test_freshness_bands(
    lake: Any, age_hours: float, severity: str | None, status: str, exit_code: int
) -> None:
    orders_aged(lake, age_hours)

    result, document = lake.cli(freshness_contract(lake), "--check", "freshness")

    assert result.exit_code == exit_code, result.stderr
    assert document is not None
    [freshness] = document["results"]
    assert freshness["status"] == status
    [detail] = freshness["details"]["tables"]
    assert detail["method"] == "metadata"
    assert detail["consumed_pct"] == pytest.approx(age_hours * 10, abs=0.5)
    assert [v["severity"] for v in document["violations"]] == ([severity] if severity else [])


def test_fresh_commit_passes_without_an_element(lake: Any) -> None:
    orders_aged(lake, 48)  # old values, but committed just now

    result, document = lake.cli(freshness_contract(lake, hours=1, element=None))

    assert result.exit_code == 0, result.stderr
    assert document is not None
    freshness = result_of(document, "freshness")
    assert freshness["status"] == "pass"
    assert freshness["details"]["tables"][0]["method"] == "snapshot"
    assert document["violations"] == []


def test_empty_table_is_a_no_data_violation(lake: Any) -> None:
    lake.table("sales.orders", ORDERS)

    result, document = lake.cli(freshness_contract(lake))

    assert result.exit_code == 1
    assert document is not None
    [event] = document["violations"]
    assert (event["severity"], event["actual_value"]) == ("error", "no data")
    assert result_of(document, "freshness")["status"] == "fail"


@pytest.mark.parametrize(
    ("age_hours", "fail_on", "exit_code"),
    [
        (8.5, "info", 1),
        (8.5, "warning", 0),
        (9.5, "warning", 1),
        (9.5, "error", 0),
        (12, "error", 1),
        (12, "critical", 0),
    ],
)
def test_fail_on_sets_the_severity_that_exits_1(
    lake: Any, age_hours: float, fail_on: str, exit_code: int
) -> None:
    orders_aged(lake, age_hours)

    result, document = lake.cli(freshness_contract(lake), "--fail-on", fail_on)

    assert result.exit_code == exit_code, result.stderr
    assert document is not None
    assert len(document["violations"]) == 1


CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType(), required=True),
    NestedField(3, "nickname", StringType(), required=False),
    NestedField(4, "quantity", IntegerType(), required=False),
    NestedField(
        5,
        "address",
        StructType(NestedField(6, "city", StringType(), required=False)),
        required=False,
    ),
    identifier_field_ids=[1],
)
CUSTOMER_PROPERTIES = [
    {"name": "id", "logicalType": "integer", "required": True, "primaryKey": True},
    {"name": "email", "logicalType": "string", "required": True},
    {"name": "nickname", "logicalType": "string"},
    {"name": "quantity", "logicalType": "integer", "physicalType": "int"},
    {
        "name": "address",
        "logicalType": "object",
        "properties": [{"name": "city", "logicalType": "string"}],
    },
]


def customers_contract(lake: Any) -> dict[str, Any]:
    return lake.contract(
        lake.obj("customers", "crm.customers", CUSTOMER_PROPERTIES), name="customers"
    )


def test_every_drift_kind_is_reported(lake: Any) -> None:
    table = lake.table("crm.customers", CUSTOMERS)
    with table.update_schema(allow_incompatible_changes=True) as update:
        update.add_column(("address", "zip"), StringType())
        update.delete_column("nickname")
        update.update_column("quantity", LongType())
        update.update_column("email", required=False)
        update.update_column("address.city", required=True)
        update.set_identifier_fields()

    result, document = lake.cli(customers_contract(lake), "--check", "schema_drift")

    assert result.exit_code == 1
    assert document is not None
    assert set(document) == REPORT_KEYS
    [drift] = document["results"]
    assert drift["status"] == "fail"
    seen = {(v["element"], v["metadata"]["change"], v["severity"]) for v in document["violations"]}
    assert seen >= {
        ("address.zip", "column_added", "warning"),
        ("nickname", "column_removed", "critical"),
        ("quantity", "type_changed", "error"),
        ("email", "nullability_changed", "error"),
        ("address.city", "nullability_changed", "info"),
    }
    assert {(e, c) for e, c, _ in seen} == {
        ("address.zip", "column_added"),
        ("nickname", "column_removed"),
        ("quantity", "type_changed"),
        ("email", "nullability_changed"),
        ("address.city", "nullability_changed"),
        ("id", "constraint_changed"),
    }
    for event in document["violations"]:
        assert event["violation_type"] == "schema_drift"
        assert event["expected_value"]
        assert event["actual_value"]
    assert drift["violation"]["severity"] == "critical"


def test_additions_alone_pass_unless_fail_on_warning(lake: Any) -> None:
    table = lake.table("crm.customers", CUSTOMERS)
    with table.update_schema() as update:
        update.add_column("segment", StringType())

    default, document = lake.cli(customers_contract(lake), "--check", "schema_drift")
    strict, _ = lake.cli(
        customers_contract(lake), "--check", "schema_drift", "--fail-on", "warning"
    )

    assert default.exit_code == 0, default.stderr
    assert document is not None
    assert document["results"][0]["status"] == "pass"
    [event] = document["violations"]
    assert (event["element"], event["severity"]) == ("segment", "warning")
    assert strict.exit_code == 1


def test_a_check_that_cannot_run_exits_2_and_still_prints_the_report(lake: Any) -> None:
    orders_aged(lake, 1)
    table = lake.load("sales.orders")
    add_equality_deletes(table, pa.table({"id": pa.array([2], pa.int64())}), [1])

    result, document = lake.cli(freshness_contract(lake))

    assert result.exit_code == 2
    assert document is not None
    assert set(document) == REPORT_KEYS
    freshness = result_of(document, "freshness")
    assert freshness["status"] == "error"
    assert freshness["details"]["reason"] == "equality_deletes"
    assert "equality delete" in result.stderr


def test_missing_table_is_an_availability_violation(lake: Any) -> None:
    lake.catalog.create_namespace("sales")

    result, document = lake.cli(freshness_contract(lake))

    assert result.exit_code == 1, result.stderr
    assert document is not None
    [event] = document["violations"]
    assert (event["violation_type"], event["severity"]) == ("availability", "error")
    assert result_of(document, "freshness")["details"]["reason"] == "table_not_found"


def test_missing_table_exits_2_without_the_availability_check(lake: Any) -> None:
    lake.catalog.create_namespace("sales")

    result, document = lake.cli(freshness_contract(lake), "--check", "freshness")

    assert result.exit_code == 2
    assert document is not None
    assert {r["details"]["reason"] for r in document["results"] if r["status"] == "error"} == {
        "table_not_found"
    }
    assert "sales.orders" in result.stderr


def test_the_installed_floe_script_prints_everything_and_exits_right(lake: Any) -> None:
    # The console script leaves through os._exit after flushing: prove nothing is lost.
    floe = Path(sys.executable).parent / "floe"
    orders_aged(lake, 12)
    contract = lake.write_contract(freshness_contract(lake))
    args = [str(floe), "sla", "check", str(contract), "--manifest", str(lake.manifest)]
    here = lake.warehouse.parent  # the embedded state database goes to ./.floe/ in here
    env = {k: v for k, v in os.environ.items() if k != "FLOE_STATE_URL"}

    stale = subprocess.run(
        [*args, "--format", "json"], capture_output=True, text=True, cwd=here, env=env
    )
    assert stale.returncode == 1, stale.stderr
    document = json.loads(stale.stdout)
    assert result_of(document, "freshness")["status"] == "fail"

    table = subprocess.run(
        [*args, "--check", "freshness"], capture_output=True, text=True, cwd=here, env=env
    )
    assert table.returncode == 1
    assert table.stdout.rstrip().endswith("→ exit 1")
    assert (here / ".floe" / "state.db").is_file()

    missing = subprocess.run(
        [str(floe), "sla", "check", "nope.yaml"], capture_output=True, text=True, cwd=here, env=env
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("Error: nope.yaml: file not found")
