"""Schema drift: every difference between the contract and the live schema is its own event."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    ViolationSeverity,
    ViolationType,
)
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.state.engine import open_state
from floe_core.state.store import StateStore
from floe_core.testing.iceberg import catalog_config

INFO, WARNING = ViolationSeverity.INFO, ViolationSeverity.WARNING
ERROR, CRITICAL = ViolationSeverity.ERROR, ViolationSeverity.CRITICAL
TABLE = "crm.customers"

CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType(), required=True),
    NestedField(3, "nickname", StringType(), required=False),
    NestedField(4, "quantity", IntegerType(), required=False),
    NestedField(5, "balance", DecimalType(10, 2), required=False),
    NestedField(
        6,
        "address",
        StructType(
            NestedField(7, "street", StringType(), required=False),
            NestedField(8, "city", StringType(), required=True),
            NestedField(9, "zip", IntegerType(), required=False),
        ),
        required=False,
    ),
    NestedField(10, "tags", ListType(11, StringType(), element_required=False), required=False),
    NestedField(
        12, "attrs", MapType(13, StringType(), 14, LongType(), value_required=False), required=False
    ),
    identifier_field_ids=[1],
)

#: CUSTOMERS's live columns as the details carry them: names and types, struct fields nested.
CUSTOMERS_COLUMNS = [
    {"name": "id", "type": "long"},
    {"name": "email", "type": "string"},
    {"name": "nickname", "type": "string"},
    {"name": "quantity", "type": "int"},
    {"name": "balance", "type": "decimal(10, 2)"},
    {
        "name": "address",
        "type": "struct",
        "fields": [
            {"name": "street", "type": "string"},
            {"name": "city", "type": "string"},
            {"name": "zip", "type": "int"},
        ],
    },
    {"name": "tags", "type": "list<string>"},
    {"name": "attrs", "type": "map<string, long>"},
]


def contract_properties() -> list[dict[str, Any]]:
    """Properties that describe CUSTOMERS exactly."""
    return [
        {
            "name": "id",
            "logicalType": "integer",
            "physicalType": "bigint",
            "required": True,
            "primaryKey": True,
        },
        {"name": "email", "logicalType": "string", "required": True},
        {"name": "nickname", "logicalType": "string"},
        {"name": "quantity", "logicalType": "integer", "physicalType": "int"},
        {"name": "balance", "logicalType": "number", "physicalType": "decimal(10,2)"},
        {
            "name": "address",
            "logicalType": "object",
            "properties": [
                {"name": "street", "logicalType": "string"},
                {"name": "city", "logicalType": "string", "required": True},
                {"name": "zip", "logicalType": "integer", "physicalType": "int"},
            ],
        },
        {"name": "tags", "logicalType": "array", "items": {"logicalType": "string"}},
        {
            "name": "attrs",
            "logicalType": "object",
            "physicalType": "map",
            "map": {"key": {"logicalType": "string"}, "value": {"logicalType": "integer"}},
        },
    ]


def prop(props: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """The property at a dotted path in ``props``, to edit the contract in place."""
    head, _, rest = path.partition(".")
    found = next(p for p in props if p["name"] == head)
    return prop(found["properties"], rest) if rest else found


def drift(
    lake: Any, props: list[dict[str, Any]] | None = None, table: str = TABLE
) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """Run the schema drift check; also prove its status follows its events."""
    contract = lake.contract(
        lake.obj("customers", table, contract_properties() if props is None else props),
        name="customers",
    )
    report = lake.run(contract, types=["schema_drift"])
    [result] = report.results
    failing = any(e.severity.rank >= ERROR.rank for e in report.violations)
    assert result.status is (CheckStatus.FAIL if failing else CheckStatus.PASS)
    assert result.violation == (report.violations[0] if report.violations else None)
    assert [e.severity.rank for e in report.violations] == sorted(
        (e.severity.rank for e in report.violations), reverse=True
    )
    assert result.details["changes"] == len(report.violations)
    return result, report.violations


def changes(events: list[ContractViolationEvent]) -> set[tuple[str | None, str, str]]:
    return {(e.element, e.metadata["change"], e.severity.value) for e in events}


@pytest.fixture
def customers(lake: Any) -> Any:
    return lake.table(TABLE, CUSTOMERS)


def test_matching_schema_has_no_drift(lake: Any, customers: Any) -> None:
    result, events = drift(lake)

    assert events == []
    assert result.status is CheckStatus.PASS
    assert result.details == {
        "tables": [{"table": TABLE, "schema_id": 0, "changes": 0, "columns": CUSTOMERS_COLUMNS}],
        "changes": 0,
    }


def test_details_carry_the_live_columns_and_persist_as_json(
    lake: Any, customers: Any, state_url: str
) -> None:
    row = {
        "id": [1],
        "email": ["alice@example.com"],
        "nickname": ["secret-nick"],
        "quantity": [3],
        "balance": [Decimal("12.50")],
        "address": [{"street": "Main St", "city": "Springfield", "zip": 12345}],
        "tags": [["vip"]],
        "attrs": [[("visits", 7)]],
    }
    lake.append(TABLE, row)
    with customers.update_schema() as update:
        update.add_column(("address", "country"), StringType())
        update.add_column("loyalty_tier", StringType())
    contract = lake.contract(lake.obj("customers", TABLE, contract_properties()), name="customers")

    async def run_and_read_back() -> tuple[CheckResult, CheckResult]:
        engine = await open_state(state_url, auto_upgrade=True)
        try:
            store = StateStore(engine)
            monitor = ContractMonitor(
                catalog=PluginSpec(type="sql", config=catalog_config(lake.warehouse)), state=store
            )
            registered = monitor.register(lake.write_contract(contract))
            report = await monitor.run(registered.contract_name, ["schema_drift"])
            assert monitor.persist_error is None
            since = datetime.now(UTC) - timedelta(hours=1)
            [stored] = await store.recent_results("customers", since)
            return report.results[0], stored
        finally:
            await engine.dispose()

    result, stored = asyncio.run(run_and_read_back())

    [table] = result.details["tables"]
    address = next(c for c in table["columns"] if c["name"] == "address")
    assert address["fields"][-1] == {"name": "country", "type": "string"}
    assert table["columns"][-1] == {"name": "loyalty_tier", "type": "string"}
    assert table["columns"][:-1] == [
        {**c, "fields": [*c["fields"], {"name": "country", "type": "string"}]}
        if c["name"] == "address"
        else c
        for c in CUSTOMERS_COLUMNS
    ]
    assert stored.details == result.details  # JSON in the state database, unchanged
    text = json.dumps(stored.details)
    assert not any(v in text for v in ("alice@example.com", "secret-nick", "Springfield", "vip"))


def test_added_column_is_a_warning(lake: Any, customers: Any) -> None:
    with customers.update_schema() as update:
        update.add_column("loyalty_tier", StringType())

    result, [event] = drift(lake)

    assert result.status is CheckStatus.PASS
    assert event.violation_type is ViolationType.SCHEMA_DRIFT
    assert event.severity is WARNING
    assert event.element == "loyalty_tier"
    assert event.metadata == {"change": "column_added", "table": TABLE, "object": "customers"}
    assert (event.expected_value, event.actual_value) == ("absent", "string")
    assert "loyalty_tier" in event.message
    assert result.details["tables"][0]["schema_id"] == 1


# One schema change each: (how the table changes, the event it gives, whether the check fails).
SINGLE_CHANGES = {
    "removed column is critical": (
        lambda update: update.delete_column("nickname"),
        ("nickname", "column_removed", CRITICAL, "string", "absent"),
        CheckStatus.FAIL,
    ),
    "changed type is an error": (
        lambda update: update.update_column("quantity", LongType()),  # int -> long, legal
        ("quantity", "type_changed", ERROR, "int", "long (logicalType integer)"),
        CheckStatus.FAIL,
    ),
    "required column now nullable is an error": (
        lambda update: update.update_column("email", required=False),
        ("email", "nullability_changed", ERROR, "required", "nullable"),
        CheckStatus.FAIL,
    ),
    "nullable column now required is info": (
        lambda update: update.update_column("nickname", required=True),
        ("nickname", "nullability_changed", INFO, "nullable", "required"),
        CheckStatus.PASS,
    ),
}


@pytest.mark.parametrize(
    ("change", "expected", "status"), SINGLE_CHANGES.values(), ids=SINGLE_CHANGES.keys()
)
def test_one_change_gives_one_event_of_its_severity(
    lake: Any, customers: Any, change: Any, expected: tuple[Any, ...], status: CheckStatus
) -> None:
    with customers.update_schema(allow_incompatible_changes=True) as update:
        change(update)

    result, [event] = drift(lake)

    assert result.status is status
    element, kind, severity, contract_side, table_side = expected
    assert event.severity is severity
    assert event.element == element
    assert event.metadata["change"] == kind
    assert (event.expected_value, event.actual_value) == (contract_side, table_side)


def test_primary_key_that_is_no_identifier_field_is_a_constraint_change(
    lake: Any, customers: Any
) -> None:
    with customers.update_schema() as update:
        update.set_identifier_fields()

    _, [event] = drift(lake)

    assert event.element == "id"
    assert event.metadata["change"] == "constraint_changed"
    assert (event.expected_value, event.actual_value) == ("primary key", "not an identifier field")


def test_identifier_field_not_keyed_in_the_contract_is_a_constraint_change(
    lake: Any, customers: Any
) -> None:
    props = contract_properties()
    del prop(props, "id")["primaryKey"]

    _, [event] = drift(lake, props)

    assert event.element == "id"
    assert event.metadata["change"] == "constraint_changed"
    assert (event.expected_value, event.actual_value) == ("not a primary key", "identifier field")


def test_nested_struct_is_compared_field_by_field(lake: Any, customers: Any) -> None:
    with customers.update_schema() as update:
        update.add_column(("address", "country"), StringType())
        update.delete_column("address.street")
        update.update_column("address.zip", LongType())
        update.update_column("address.city", required=False)

    _, events = drift(lake)

    assert changes(events) == {
        ("address.street", "column_removed", "critical"),
        ("address.zip", "type_changed", "error"),
        ("address.city", "nullability_changed", "error"),
        ("address.country", "column_added", "warning"),
    }
    assert len(events) == 4


def test_every_change_is_its_own_event(lake: Any, customers: Any) -> None:
    with customers.update_schema(allow_incompatible_changes=True) as update:
        update.add_column("loyalty_tier", StringType())
        update.delete_column("balance")
        update.update_column("quantity", LongType())
        update.update_column("email", required=False)
        update.update_column("nickname", required=True)
        update.set_identifier_fields()

    result, events = drift(lake)

    assert {(e.element, e.metadata["change"]) for e in events} == {
        ("loyalty_tier", "column_added"),
        ("balance", "column_removed"),
        ("quantity", "type_changed"),
        ("email", "nullability_changed"),
        ("nickname", "nullability_changed"),
        ("id", "constraint_changed"),
    }
    assert changes(events) >= {
        ("loyalty_tier", "column_added", "warning"),
        ("balance", "column_removed", "critical"),
        ("quantity", "type_changed", "error"),
        ("email", "nullability_changed", "error"),
        ("nickname", "nullability_changed", "info"),
    }
    assert len(events) == 6
    assert result.violation is not None
    assert result.violation.severity is CRITICAL
    assert all(e.expected_value and e.actual_value for e in events)


def test_list_element_type_is_compared_as_name_dot_element(lake: Any, customers: Any) -> None:
    props = contract_properties()
    prop(props, "tags")["items"] = {"logicalType": "integer"}

    _, [event] = drift(lake, props)

    assert event.element == "tags.element"
    assert event.metadata["change"] == "type_changed"
    assert (event.expected_value, event.actual_value) == ("integer", "string (logicalType string)")


def test_struct_inside_a_list_is_compared_recursively(lake: Any) -> None:
    line = StructType(
        NestedField(3, "sku", StringType(), required=False),
        NestedField(4, "qty", IntegerType(), required=False),
    )
    lake.table("sales.orders", Schema(NestedField(1, "lines", ListType(2, line), required=False)))
    props = [
        {
            "name": "lines",
            "logicalType": "array",
            "items": {
                "logicalType": "object",
                "properties": [
                    {"name": "sku", "logicalType": "string"},
                    {"name": "qty", "logicalType": "string"},
                    {"name": "price", "logicalType": "number"},
                ],
            },
        }
    ]

    result, events = drift(lake, props, table="sales.orders")

    assert changes(events) == {
        ("lines.element.qty", "type_changed", "error"),
        ("lines.element.price", "column_removed", "critical"),
    }
    assert result.details["tables"][0]["columns"] == [
        {"name": "lines", "type": "list<struct<sku: string, qty: int>>"}
    ]


def test_map_key_and_value_are_compared(lake: Any, customers: Any) -> None:
    props = contract_properties()
    prop(props, "attrs")["map"] = {
        "key": {"logicalType": "integer"},
        "value": {"logicalType": "string"},
    }

    _, events = drift(lake, props)

    assert changes(events) == {
        ("attrs.key", "type_changed", "error"),
        ("attrs.value", "type_changed", "error"),
    }


def test_names_match_case_insensitively_and_physical_name_wins(lake: Any, customers: Any) -> None:
    props = contract_properties()
    prop(props, "email")["name"] = "EMAIL"
    prop(props, "nickname").update(name="display_name", physicalName="nickname")

    _, events = drift(lake, props)

    assert events == []


def _struct() -> StructType:
    return StructType(NestedField(2, "a", StringType(), required=False))


@pytest.mark.parametrize(
    ("iceberg", "physical", "logical", "expected"),
    [
        # physicalType spellings of the mapping table
        (LongType(), "bigint", "integer", None),
        (LongType(), "BIGINT", None, None),
        (LongType(), "int64", None, None),
        (LongType(), "int", None, "int"),
        (StringType(), "int64", None, "int64"),
        (IntegerType(), "int32", None, None),
        (IntegerType(), "smallint", None, None),
        (DoubleType(), "double precision", None, None),
        (DoubleType(), "float64", None, None),
        (DoubleType(), "float", None, "float"),
        (FloatType(), "real", None, None),
        (DecimalType(12, 2), "decimal(10,2)", "number", "decimal(10,2)"),
        (DecimalType(12, 2), "decimal(12, 2)", None, None),
        (DecimalType(12, 2), "NUMERIC(12,2)", None, None),
        (DecimalType(12, 2), "decimal", None, None),
        (StringType(), "varchar(255)", None, None),
        (StringType(), "text", None, None),
        (StringType(), "bigint", "string", "bigint"),
        (TimestamptzType(), "timestamptz", None, None),
        (TimestamptzType(), "timestamp with time zone", None, None),
        (TimestamptzType(), "timestamp", None, "timestamp"),
        (TimestampType(), "timestamp_ntz", None, None),
        (TimestampType(), "datetime", None, None),
        (DateType(), "date", "date", None),
        (BooleanType(), "bool", None, None),
        (UUIDType(), "uuid", "string", None),
        (FixedType(16), "fixed[16]", None, None),
        (FixedType(16), "fixed[8]", None, "fixed[8]"),
        (BinaryType(), "varbinary", None, None),
        (ListType(1, StringType()), "array<string>", "array", None),
        (_struct(), "struct", "object", None),
        # an unknown physicalType falls back to the logicalType
        (StringType(), "VARCHAR2(20)", "string", None),
        (StringType(), "VARCHAR2(20)", "integer", "integer"),
        (StringType(), "VARCHAR2(20)", None, None),
        # logicalType alone
        (LongType(), None, "integer", None),
        (LongType(), None, "number", "number"),
        (DecimalType(10, 2), None, "number", None),
        (StringType(), None, "integer", "integer"),
        (TimestamptzType(), None, "timestamp", None),
        (TimestamptzType(), None, "date", None),  # ODCS v3.0 has no timestamp
        (TimeType(), None, "string", None),  # ODCS v3.0 has no time
        (DateType(), None, "timestamp", "timestamp"),
        (MapType(1, StringType(), 2, LongType()), None, "object", None),
        (_struct(), None, "array", "array"),
    ],
)
def test_type_mapping(
    lake: Any, iceberg: IcebergType, physical: str | None, logical: str | None, expected: str | None
) -> None:
    lake.table("t.types", Schema(NestedField(100, "c", iceberg, required=False)))
    column: dict[str, Any] = {"name": "c"}
    if physical is not None:
        column["physicalType"] = physical
    if logical is not None:
        column["logicalType"] = logical

    _, events = drift(lake, [column], table="t.types")

    if expected is None:
        assert events == []
    else:
        [event] = events
        assert event.metadata["change"] == "type_changed"
        assert event.element == "c"
        assert event.expected_value == expected
        assert event.actual_value is not None
        assert event.actual_value.startswith(str(lake.load("t.types").schema().find_type("c")))
