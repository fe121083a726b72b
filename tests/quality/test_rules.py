"""Rules that floe does not execute (text, custom) are listed as skipped; rules it cannot
evaluate as written are errors that say what to fix, and leave the others evaluated."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from floe_core.events import CheckStatus

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("unit", pa.string())])
ROWS = {"id": [1, 2, 3], "unit": ["kg", "lb", "kg"]}


def test_a_contract_without_rules_is_skipped(lake: Any) -> None:
    result = lake.quality(lake.contract(lake.obj(TABLE, [{"name": "id"}])))

    assert result.status is CheckStatus.SKIPPED
    assert "no quality rules" in result.details["reason"]


def test_text_and_custom_rules_are_listed_as_skipped(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    rules = [
        {"id": "prose", "type": "text", "description": "Units are metric."},
        {"id": "soda", "type": "custom", "engine": "soda", "implementation": "type: row_count"},
    ]
    result = lake.quality(lake.contract(lake.obj(TABLE, [{"name": "id"}], rules)))

    assert result.status is CheckStatus.SKIPPED
    assert "text or custom" in result.details["reason"]
    got = {k: (r["status"], r["reason"], r["method"]) for k, r in lake.rules(result).items()}
    assert got == {
        "prose": ("skipped", "text_rule", None),
        "soda": ("skipped", "custom_rule", None),
    }
    assert result.details["quality_score"] is None


def test_rules_that_cannot_be_evaluated_say_why_and_the_others_still_run(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    object_rules = [
        {"id": "unknown_metric", "metric": "freshValues", "mustBe": 0},
        {"id": "no_operator", "metric": "rowCount"},
        {"id": "row_percent", "metric": "rowCount", "mustBe": 1, "unit": "percent"},
        {"id": "nulls_of_what", "metric": "nullValues", "mustBe": 0},
        {"id": "dups_of_what", "metric": "duplicateValues", "mustBe": 0},
        {"id": "odd_type", "type": "soda", "mustBe": 0},
        {"id": "rows_ok", "metric": "rowCount", "mustBe": 3},
    ]
    unit_rules = [
        {"id": "odd_unit", "metric": "nullValues", "mustBe": 0, "unit": "bananas"},
        {"id": "no_criteria", "metric": "invalidValues", "mustBe": 0},
        {
            "id": "not_re2",
            "metric": "invalidValues",
            "arguments": {"pattern": "^(?=k)"},
            "mustBe": 0,
        },
        {"id": "text_threshold", "metric": "nullValues", "mustBe": "none"},
        {
            "id": "unit_ok",
            "metric": "invalidValues",
            "arguments": {"validValues": ["kg", "lb"]},
            "mustBe": 0,
        },
    ]
    properties = [
        {"name": "id"},
        {"name": "unit", "quality": unit_rules},
        {"name": "weight", "quality": [{"id": "no_column", "metric": "nullValues", "mustBe": 0}]},
    ]
    result = lake.quality(lake.contract(lake.obj(TABLE, properties, object_rules)))

    rules = lake.rules(result)
    got = {k: (r["status"], r.get("reason")) for k, r in rules.items()}
    invalid = ("error", "invalid_rule")
    assert got == {
        "unknown_metric": invalid,
        "no_operator": invalid,
        "row_percent": invalid,
        "nulls_of_what": invalid,
        "dups_of_what": invalid,
        "odd_type": invalid,
        "rows_ok": ("pass", None),
        "odd_unit": invalid,
        "no_criteria": invalid,
        "not_re2": ("error", "invalid_pattern"),
        "text_threshold": invalid,
        "unit_ok": ("pass", None),
        "no_column": ("error", "column_not_found"),
    }
    hints = {
        "unknown_metric": "use one of nullValues, missingValues",
        "no_operator": "add one of mustBe",
        "row_percent": "remove unit: percent",
        "nulls_of_what": "put the rule under the property's quality",
        "dups_of_what": "arguments.properties",
        "odd_type": "use library, sql, text or custom",
        "odd_unit": "use rows (the default) or percent",
        "no_criteria": "arguments.validValues or arguments.pattern",
        "not_re2": "not RE2",
        "text_threshold": "mustBe must be a number",
        "no_column": "column 'weight' does not exist",
    }
    for rule_id, hint in hints.items():
        assert hint in rules[rule_id]["message"], rule_id
    assert result.status is CheckStatus.ERROR
    assert "11 quality rule(s) could not be evaluated" in result.details["message"]
    assert result.details["quality_score"] == 100.0


def test_rules_of_every_schema_object_run_against_its_own_table(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)
    lake.table("sales.returns", SCHEMA, {"id": [9], "unit": [None]})
    orders = lake.obj(
        TABLE,
        [{"name": "id"}],
        [{"id": "orders_rows", "metric": "rowCount", "mustBe": len(ROWS["id"])}],
    )
    returns = lake.obj(
        "sales.returns",
        [
            {
                "name": "unit",
                "quality": [
                    {
                        "id": "returns_units",
                        "metric": "nullValues",
                        "mustBe": 0,
                        "severity": "warning",
                    }
                ],
            }
        ],
        name="returns",
    )
    report = lake.run(lake.contract(orders, returns))

    [result] = report.results
    rules = lake.rules(result)
    assert (rules["orders_rows"]["table"], rules["orders_rows"]["status"]) == (TABLE, "pass")
    assert (rules["returns_units"]["table"], rules["returns_units"]["status"]) == (
        "sales.returns",
        "fail",
    )
    assert [t["table"] for t in result.details["tables"]] == [TABLE, "sales.returns"]
    [event] = report.violations
    assert (event.metadata["table"], event.metadata["object"]) == ("sales.returns", "returns")
    assert result.status is CheckStatus.PASS  # a warning only
    assert result.details["quality_score"] == 60.0  # error rule (3) passed, warning (2) failed
