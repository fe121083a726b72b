"""Every ODCS library metric, at property and object level, in rows and percent: the measured
numbers equal what plain Python counts over the rows written, and all the rules a scan answers
share one pass over the table."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pytest

from floe_core.events import CheckStatus
from floe_core.testing.iceberg import add_position_deletes, create_table

TABLE = "sales.orders"
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("email", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("tenant", pa.string()),
        pa.field("amount", pa.float64()),
        pa.field("code", pa.int32()),
        pa.field("address", pa.struct([pa.field("city", pa.string())])),
    ]
)
ROWS: dict[str, list[Any]] = {
    "id": [1, 2, 2, 3, None, 5, 6, 6, 6, 10],
    "email": ["a@x.io", "", None, "b@x.io", "N/A", "c@x.io", None, "d@x.io", "a@x.io", "oops"],
    "unit": ["kg", "pounds", "lbs", None, "kg", "KG", "kg", "oz", "pounds", "kg"],
    "tenant": ["t1", "t1", "t2", "t1", "t1", "t2", "t2", "t2", "t2", "t1"],
    "amount": [1.5, None, 2.0, 2.0, -1.0, None, 3.0, 0.0, 2.0, 9.0],
    "code": [0, -1, 5, -1, None, 7, 0, 3, -1, 2],
    "address": [
        {"city": "Oslo"},
        {"city": None},
        None,
        {"city": "Rome"},
        {"city": "Oslo"},
        None,
        {"city": "Lima"},
        {"city": None},
        {"city": "Rome"},
        {"city": "Oslo"},
    ],
}
N = len(ROWS["id"])
EMAIL_PATTERN = r"^[a-z]+@[a-z]+\.io$"


# Plain-Python definitions of the metrics, independent of floe's SQL.
def nulls(values: list[Any]) -> int:
    return sum(v is None for v in values)


def missing(values: list[Any], listed: list[Any]) -> int:
    return sum(any(v is m or (v is not None and v == m) for m in listed) for v in values)


def invalid(values: list[Any], valid: list[Any] | None = None, pattern: str | None = None) -> int:
    def ok(v: Any) -> bool:
        return (valid is None or v in valid) and (pattern is None or bool(re.search(pattern, v)))

    return sum(v is not None and not ok(v) for v in values)


def duplicates(values: list[Any]) -> int:
    present = [v for v in values if v is not None]
    return len(present) - len(set(present))


Case = tuple[str, dict[str, Any], float, str]


def cases(rows: dict[str, list[Any]]) -> dict[str, Case]:
    """rule id -> (where, rule without operator, what Python counts over ``rows``, method)."""
    n = len(rows["id"])

    def percent(count: int) -> float:
        return 100.0 * count / n

    cities = [a["city"] if a is not None else None for a in rows["address"]]
    keys = list(zip(rows["tenant"], rows["id"], strict=True))
    return {
        "row_count": ("object", {"metric": "rowCount"}, n, "metadata"),
        "compound_key_dups": (
            "object",
            {"metric": "duplicateValues", "arguments": {"properties": ["tenant", "id"]}},
            len(keys) - len(set(keys)),
            "scan",
        ),
        "id_nulls": ("id", {"metric": "nullValues"}, nulls(rows["id"]), "metadata"),
        "id_nulls_pct": (
            "id",
            {"metric": "nullValues", "unit": "percent"},
            percent(nulls(rows["id"])),
            "metadata",
        ),
        "id_dups": ("id", {"metric": "duplicateValues"}, duplicates(rows["id"]), "scan"),
        "id_dups_pct": (
            "id",
            {"metric": "duplicateValues", "unit": "percent"},
            percent(duplicates(rows["id"])),
            "scan",
        ),
        "id_dups_legacy": ("id", {"rule": "duplicateValues"}, duplicates(rows["id"]), "scan"),
        "email_missing": (
            "email",
            {"metric": "missingValues", "arguments": {"missingValues": [None, "", "N/A"]}},
            missing(rows["email"], [None, "", "N/A"]),
            "scan",
        ),
        "email_missing_pct": (
            "email",
            {
                "metric": "missingValues",
                "arguments": {"missingValues": ["", "N/A"]},
                "unit": "percent",
            },
            percent(missing(rows["email"], ["", "N/A"])),
            "scan",
        ),
        "email_missing_default": (
            "email",
            {"metric": "missingValues"},
            nulls(rows["email"]),
            "metadata",
        ),
        "email_nulls_legacy": ("email", {"rule": "nullValues"}, nulls(rows["email"]), "metadata"),
        "email_pattern": (
            "email",
            {"metric": "invalidValues", "arguments": {"pattern": EMAIL_PATTERN}},
            invalid(rows["email"], pattern=EMAIL_PATTERN),
            "scan",
        ),
        "unit_valid": (
            "unit",
            {"metric": "invalidValues", "arguments": {"validValues": ["kg", "pounds"]}},
            invalid(rows["unit"], valid=["kg", "pounds"]),
            "scan",
        ),
        "unit_valid_pct": (
            "unit",
            {
                "metric": "invalidValues",
                "arguments": {"validValues": ["kg", "pounds"]},
                "unit": "percent",
            },
            percent(invalid(rows["unit"], valid=["kg", "pounds"])),
            "scan",
        ),
        "unit_valid_and_pattern": (
            "unit",
            {
                "metric": "invalidValues",
                "arguments": {"validValues": ["kg", "pounds", "lbs", "KG"], "pattern": "^[a-z]+$"},
            },
            invalid(rows["unit"], valid=["kg", "pounds", "lbs", "KG"], pattern="^[a-z]+$"),
            "scan",
        ),
        "code_missing_numeric": (
            "code",
            {"metric": "missingValues", "arguments": {"missingValues": [-1, None, "N/A"]}},
            missing(rows["code"], [-1, None, "N/A"]),
            "scan",
        ),
        "code_valid_numeric": (
            "code",
            {"metric": "invalidValues", "arguments": {"validValues": [0, 1, 2, 3]}},
            invalid(rows["code"], valid=[0, 1, 2, 3]),
            "scan",
        ),
        "amount_nulls": ("amount", {"metric": "nullValues"}, nulls(rows["amount"]), "metadata"),
        "amount_valid": (
            "amount",
            {"metric": "invalidValues", "arguments": {"validValues": [1.5, 2]}},
            invalid(rows["amount"], valid=[1.5, 2.0]),
            "scan",
        ),
        "city_nulls": ("address.city", {"metric": "nullValues"}, nulls(cities), "scan"),
        "city_dups": ("address.city", {"metric": "duplicateValues"}, duplicates(cities), "scan"),
    }


CASES = cases(ROWS)


def contract_with(chosen: dict[str, Case], lake: Any) -> Any:
    by_column: dict[str, list[dict[str, Any]]] = {}
    for rule_id, (where, body, _, _) in chosen.items():
        by_column.setdefault(where, []).append({"id": rule_id, **body, "mustBeGreaterOrEqualTo": 0})
    properties = [
        {"name": name, "quality": by_column.get(name, [])}
        for name in ("id", "email", "unit", "tenant", "amount", "code")
    ]
    properties.append(
        {
            "name": "address",
            "logicalType": "object",
            "properties": [{"name": "city", "quality": by_column.get("address.city", [])}],
        }
    )
    return lake.contract(lake.obj(TABLE, properties, by_column.get("object")))


@pytest.fixture
def result(lake: Any) -> Any:
    lake.table(TABLE, SCHEMA, ROWS)
    return lake.quality(contract_with(CASES, lake))


def test_each_metric_measures_what_python_counts(result: Any, lake: Any) -> None:
    rules = lake.rules(result)
    got = {
        k: (rules[k]["status"], rules[k]["measured"], rules[k]["method"], rules[k]["element"])
        for k in CASES
    }
    expected = {
        k: ("pass", pytest.approx(value), method, None if where == "object" else where)
        for k, (where, _, value, method) in CASES.items()
    }
    assert got == expected


def test_all_scanned_rules_share_one_pass_of_the_parquet_files(result: Any) -> None:
    assert result.status is CheckStatus.PASS
    [table] = result.details["tables"]
    assert (table["table"], table["scans"], table["source"]) == (TABLE, 1, "parquet")
    # Metadata answers the top-level null counts; a struct field's are left to the scan.
    assert "address.city" in table["fallback_reason"]
    assert result.details["quality_score"] == 100.0


def test_rules_spread_over_files_count_every_file(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    lake.append(TABLE, ROWS)
    chosen = {k: CASES[k] for k in ("row_count", "id_dups", "email_pattern", "id_nulls")}
    result = lake.quality(contract_with(chosen, lake))

    rules = lake.rules(result)
    assert rules["row_count"]["measured"] == 2 * N
    assert rules["id_nulls"]["measured"] == 2 * nulls(ROWS["id"])
    assert rules["id_dups"]["measured"] == duplicates(ROWS["id"] * 2)
    assert rules["email_pattern"]["measured"] == 2 * invalid(ROWS["email"], pattern=EMAIL_PATTERN)


def test_a_table_without_snapshot_counts_nothing_from_metadata(lake: Any) -> None:
    create_table(lake.catalog, TABLE, SCHEMA)
    chosen = {k: CASES[k] for k in ("row_count", "id_dups", "email_missing", "id_nulls_pct")}
    result = lake.quality(contract_with(chosen, lake))

    assert result.status is CheckStatus.PASS
    for rule in lake.rules(result).values():
        assert (rule["measured"], rule["method"]) == (0, "metadata")
    assert result.details["tables"] == [{"table": TABLE, "scans": 0}]


def test_every_metric_through_pyiceberg_with_positional_deletes_applied(lake: Any) -> None:
    table = lake.table(TABLE, SCHEMA, ROWS)
    [data_file] = [task.file for task in table.scan().plan_files()]
    deleted = {0, 4, 6}
    add_position_deletes(table, data_file.file_path, sorted(deleted))
    kept = {k: [v for i, v in enumerate(vs) if i not in deleted] for k, vs in ROWS.items()}

    result = lake.quality(contract_with(CASES, lake))

    rules = lake.rules(result)
    got = {k: (rules[k]["status"], rules[k]["measured"], rules[k]["method"]) for k in CASES}
    expected = {k: ("pass", pytest.approx(v), "scan") for k, (_, _, v, _) in cases(kept).items()}
    assert got == expected
    [detail] = result.details["tables"]
    assert (detail["scans"], detail["source"]) == (1, "pyiceberg")


def test_duckdb_in_floes_own_process_measures_the_same(
    result: Any, lake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOE_DUCKDB_WORKER", "0")  # the result fixture ran in the worker

    in_process = lake.quality(contract_with(CASES, lake))

    assert in_process.details["rules"] == result.details["rules"]
    assert in_process.details["tables"] == result.details["tables"]
