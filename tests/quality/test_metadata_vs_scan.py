"""Metadata answers only when it is exact; delete files, missing statistics and schema evolution
send rules to a scan that gives the right number, and equality deletes give no number."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyiceberg.types import LongType

from floe_core.events import CheckStatus
from floe_core.testing.iceberg import add_equality_deletes, add_position_deletes, create_table

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("email", pa.string())])
ROWS = {"id": [1, 2, 3, 4, 5, 6], "email": ["a@x", None, "b@x", None, "c@x", "a@x"]}
RULES = [
    {"id": "row_count", "metric": "rowCount", "mustBeGreaterOrEqualTo": 0},
]
EMAIL_RULES = [
    {"id": "email_nulls", "metric": "nullValues", "mustBeGreaterOrEqualTo": 0},
    {"id": "email_null_pct", "metric": "nullValues", "unit": "percent", "mustBeLessThan": 101},
    {"id": "email_dups", "metric": "duplicateValues", "mustBeGreaterOrEqualTo": 0},
    {
        "id": "email_nulls_sql",
        "type": "sql",
        "query": "SELECT count(*) FROM ${table} WHERE ${column} IS NULL",
        "mustBeGreaterOrEqualTo": 0,
    },
]


def contract(lake: Any, column: str = "email", rules: list[dict[str, Any]] = EMAIL_RULES) -> Any:
    properties = [{"name": "id"}, {"name": column, "quality": rules}]
    return lake.contract(lake.obj(TABLE, properties, RULES))


def measured(lake: Any, result: Any) -> dict[str, tuple[float, str]]:
    return {k: (r["measured"], r["method"]) for k, r in lake.rules(result).items()}


def test_without_deletes_metadata_answers_counts_and_the_rest_is_one_scan(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    result = lake.quality(contract(lake))

    emails = ROWS["email"]
    present = [e for e in emails if e is not None]
    assert measured(lake, result) == {
        "row_count": (len(emails), "metadata"),
        "email_nulls": (emails.count(None), "metadata"),
        "email_null_pct": (100 * emails.count(None) / len(emails), "metadata"),
        "email_dups": (len(present) - len(set(present)), "scan"),
        "email_nulls_sql": (emails.count(None), "sql"),
    }
    assert result.details["tables"] == [{"table": TABLE, "scans": 1, "source": "parquet"}]


def test_positional_deletes_make_metadata_wrong_so_the_scan_answers(lake: Any) -> None:
    table = lake.table(TABLE, SCHEMA, ROWS)
    [data_file] = [task.file for task in table.scan().plan_files()]
    deleted = [1, 4]  # a row with a null email, and one without
    add_position_deletes(table, data_file.file_path, deleted)
    kept = [e for i, e in enumerate(ROWS["email"]) if i not in deleted]
    present = [e for e in kept if e is not None]
    # What the metadata says still counts the deleted rows: it would be wrong.
    assert data_file.record_count == len(ROWS["id"]) != len(kept)
    assert data_file.null_value_counts[2] == ROWS["email"].count(None) != kept.count(None)

    result = lake.quality(contract(lake))

    assert measured(lake, result) == {
        "row_count": (len(kept), "scan"),
        "email_nulls": (kept.count(None), "scan"),
        "email_null_pct": (100 * kept.count(None) / len(kept), "scan"),
        "email_dups": (len(present) - len(set(present)), "scan"),
        "email_nulls_sql": (kept.count(None), "sql"),
    }
    [detail] = result.details["tables"]
    assert (detail["scans"], detail["source"]) == (1, "pyiceberg")
    assert "1 delete file(s) apply" in detail["fallback_reason"]
    assert "delete file" in detail["source_reason"]


def test_equality_deletes_give_no_number(lake: Any) -> None:
    table = lake.table(TABLE, SCHEMA, ROWS)
    add_equality_deletes(table, pa.table({"id": pa.array([2], pa.int64())}), [1])
    rules = [*EMAIL_RULES, {"id": "words", "type": "text", "description": "emails are real"}]

    report = lake.run(contract(lake, rules=rules))

    [result] = report.results
    statuses = {k: (r["status"], r.get("reason")) for k, r in lake.rules(result).items()}
    assert statuses.pop("words") == ("skipped", "text_rule")
    assert set(statuses.values()) == {("error", "equality_deletes")}
    assert all(r["measured"] is None for r in lake.rules(result).values())
    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "equality_deletes"
    assert "pyiceberg cannot apply" in result.details["message"]
    assert report.violations == []


def test_missing_null_statistics_fall_back_to_the_scan(lake: Any) -> None:
    create_table(lake.catalog, TABLE, SCHEMA, properties={"write.metadata.metrics.default": "none"})
    lake.append(TABLE, ROWS)
    result = lake.quality(contract(lake, rules=EMAIL_RULES[:1]))

    assert measured(lake, result)["email_nulls"] == (ROWS["email"].count(None), "scan")
    [detail] = result.details["tables"]
    assert "has no null count for 'email'" in detail["fallback_reason"]
    assert detail["source"] == "parquet"


def test_a_renamed_column_is_read_by_field_id(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    lake.load(TABLE).update_schema().rename_column("email", "mail").commit()
    more = {"id": [7, 8], "mail": ["d@x", "a@x"]}
    lake.append(TABLE, more)
    rules = [
        {"id": "mail_dups", "metric": "duplicateValues", "mustBeGreaterOrEqualTo": 0},
        {
            "id": "mail_invalid",
            "metric": "invalidValues",
            "arguments": {"validValues": ["a@x", "b@x"]},
            "mustBeGreaterOrEqualTo": 0,
        },
    ]
    result = lake.quality(contract(lake, column="mail", rules=rules))

    mails = ROWS["email"] + more["mail"]
    present = [m for m in mails if m is not None]
    assert measured(lake, result) == {
        "row_count": (len(mails), "metadata"),
        "mail_dups": (len(present) - len(set(present)), "scan"),
        "mail_invalid": (sum(m not in ("a@x", "b@x") for m in present), "scan"),
    }
    [detail] = result.details["tables"]
    assert detail["source"] == "pyiceberg"
    assert "column 'mail' was 'email'" in detail["source_reason"]


def test_a_column_added_later_is_null_in_older_files(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    with lake.load(TABLE).update_schema() as update:
        update.add_column("score", LongType())
    lake.append(TABLE, {"id": [7, 8, 9], "email": ["x", "y", "z"], "score": [1, None, 3]})
    rules = [{"id": "score_nulls", "metric": "nullValues", "mustBeGreaterOrEqualTo": 0}]
    result = lake.quality(contract(lake, column="score", rules=rules))

    expected_nulls = len(ROWS["id"]) + 1
    assert measured(lake, result)["score_nulls"] == (expected_nulls, "scan")
    [detail] = result.details["tables"]
    assert "absent from schema 0" in detail["source_reason"]
