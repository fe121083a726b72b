"""sql rules: every placeholder bound to the quoted table and column, names that would inject
SQL if pasted, and queries that are not one SELECT returning one number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from floe_core.events import CheckStatus

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("email", pa.string())])
ROWS = {
    "id": [1, 2, 3, 4, 5, 6],
    "email": ["a@x.io", None, "", "b@x.io", None, "c@y.io"],
}


def sql(rule_id: str, query: str, **ops: Any) -> dict[str, Any]:
    return {"id": rule_id, "type": "sql", "query": query, **(ops or {"mustBeGreaterOrEqualTo": 0})}


def test_each_placeholder_binds_the_table_or_the_column(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    emails = ROWS["email"]
    email_rules = [
        sql("table_column", "SELECT count(*) FROM ${table} WHERE ${column} IS NULL"),
        sql("object_property", "SELECT count(*) FROM ${object} WHERE ${property} LIKE '%@x.io'"),
        sql("odcs_31_spelling", "SELECT count(*) FROM {object} WHERE {property} = ''"),
    ]
    object_rules = [
        sql("max_id", "SELECT max(id) FROM ${table}", mustBe=max(ROWS["id"])),
        sql("boolean_is_one", "SELECT count(*) = 6 FROM ${table}", mustBe=1),
    ]
    properties = [{"name": "id"}, {"name": "email", "quality": email_rules}]
    result = lake.quality(lake.contract(lake.obj(TABLE, properties, object_rules)))

    rules = lake.rules(result)
    assert {k: (r["measured"], r["method"], r["status"]) for k, r in rules.items()} == {
        "table_column": (sum(e is None for e in emails), "sql", "pass"),
        "object_property": (
            sum(e is not None and e.endswith("@x.io") for e in emails),
            "sql",
            "pass",
        ),
        "odcs_31_spelling": (emails.count(""), "sql", "pass"),
        "max_id": (max(ROWS["id"]), "sql", "pass"),
        "boolean_is_one": (1, "sql", "pass"),
    }
    assert result.status is CheckStatus.PASS


def test_names_that_would_inject_sql_are_quoted(lake: Any) -> None:
    column = 'note" IS NOT NULL OR 1=1 OR "x'
    table = 'sales.odd"; DROP TABLE orders; --'
    schema = pa.schema([pa.field("id", pa.int64()), pa.field(column, pa.string())])
    notes = ["n", None, "", None, "m"]
    lake.table(table, schema, {"id": [1, 2, 3, 4, 5], column: notes})
    rules = [
        sql("nulls_by_sql", "SELECT count(*) FROM ${table} WHERE ${column} IS NULL"),
        {
            "id": "empties_by_scan",
            "metric": "missingValues",
            "arguments": {"missingValues": [""]},
            "mustBeGreaterOrEqualTo": 0,
        },
        {"id": "nulls_by_metadata", "metric": "nullValues", "mustBeGreaterOrEqualTo": 0},
    ]
    properties = [{"name": "id"}, {"name": column, "quality": rules}]
    result = lake.quality(lake.contract(lake.obj(table, properties)))

    measured = {k: r["measured"] for k, r in lake.rules(result).items()}
    assert measured == {
        "nulls_by_sql": notes.count(None),
        "empties_by_scan": notes.count(""),
        "nulls_by_metadata": notes.count(None),
    }
    assert lake.load(table).scan().to_arrow().num_rows == len(notes)  # nothing was dropped


def test_queries_that_are_not_one_select_of_one_number_are_errors(
    lake: Any, tmp_path: Path
) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n2\n")
    written = tmp_path / "written.csv"
    rules = [
        sql("copy", f"COPY (SELECT 1) TO '{written}'"),
        sql("two_statements", "SELECT 1; SELECT 2"),
        sql("reads_other_files", f"SELECT count(*) FROM read_csv('{outside}')"),
        sql("many_rows", "SELECT id FROM ${table}"),
        sql("a_string", "SELECT email FROM ${table} WHERE email <> '' LIMIT 1"),
        sql("null", "SELECT max(id) FROM ${table} WHERE id > 100"),
        sql("bad_syntax", "SELEC count(*) FROM ${table}"),
        sql("column_at_object_level", "SELECT count(*) FROM ${table} WHERE ${column} IS NULL"),
        sql("no_operator", "SELECT 1", mustBeGreaterOrEqualTo=None),
        sql("fine", "SELECT count(*) FROM ${table}", mustBe=len(ROWS["id"])),
    ]
    result = lake.quality(lake.contract(lake.obj(TABLE, [{"name": "id"}], rules)))

    got = {k: (r["status"], r.get("reason")) for k, r in lake.rules(result).items()}
    assert got == {
        "copy": ("error", "sql_not_select"),
        "two_statements": ("error", "sql_not_select"),
        "reads_other_files": ("error", "sql_error"),
        "many_rows": ("error", "sql_result_shape"),
        "a_string": ("error", "sql_not_a_number"),
        "null": ("error", "sql_result_null"),
        "bad_syntax": ("error", "sql_error"),
        "column_at_object_level": ("error", "invalid_rule"),
        "no_operator": ("error", "invalid_rule"),
        "fine": ("pass", None),
    }
    assert not written.exists()
    assert "outside.csv" in lake.rules(result)["reads_other_files"]["message"]
    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "rules_errored"
    assert "9 quality rule(s) could not be evaluated" in result.details["message"]
    assert "schema[0].quality[0]" in result.details["message"]
    assert result.details["quality_score"] == 100.0  # the one evaluated rule passed
