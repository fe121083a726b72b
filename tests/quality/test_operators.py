"""Every ODCS operator, at and around its boundary, in rows and in percent.

The table has 4 rows, one of them with a null ``note``: rowCount measures 4, nullValues 1 row
or 25 percent. Between bounds are inclusive (ODCS writes them as set membership, [low, high]).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from floe_core.events import CheckStatus

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("note", pa.string())])
ROWS = {"id": [1, 2, 3, 4], "note": ["a", None, "b", "c"]}
ROW_COUNT = len(ROWS["id"])
NULL_PCT = 100.0 * ROWS["note"].count(None) / ROW_COUNT  # 25.0

# rule id -> (operators, passes?) for rowCount, which measures ROW_COUNT (4)
ROW_COUNT_CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "be_equal": ({"mustBe": 4}, True),
    "be_other": ({"mustBe": 3}, False),
    "not_be_equal": ({"mustNotBe": 4}, False),
    "not_be_other": ({"mustNotBe": 5}, True),
    "greater_at_boundary": ({"mustBeGreaterThan": 4}, False),
    "greater_below": ({"mustBeGreaterThan": 3}, True),
    "greater_or_equal_at_boundary": ({"mustBeGreaterOrEqualTo": 4}, True),
    "greater_or_equal_above": ({"mustBeGreaterOrEqualTo": 5}, False),
    "less_at_boundary": ({"mustBeLessThan": 4}, False),
    "less_above": ({"mustBeLessThan": 5}, True),
    "less_or_equal_at_boundary": ({"mustBeLessOrEqualTo": 4}, True),
    "less_or_equal_below": ({"mustBeLessOrEqualTo": 3}, False),
    "between_low_bound": ({"mustBeBetween": [4, 6]}, True),
    "between_high_bound": ({"mustBeBetween": [2, 4]}, True),
    "between_above": ({"mustBeBetween": [5, 6]}, False),
    "between_below": ({"mustBeBetween": [1, 3]}, False),
    "between_reversed": ({"mustBeBetween": [6, 4]}, True),
    "not_between_low_bound": ({"mustNotBeBetween": [4, 6]}, False),
    "not_between_high_bound": ({"mustNotBeBetween": [2, 4]}, False),
    "not_between_outside": ({"mustNotBeBetween": [5, 6]}, True),
    "two_operators_hold": ({"mustBeGreaterThan": 3, "mustBeLessThan": 5}, True),
    "two_operators_one_fails": ({"mustBeGreaterThan": 3, "mustBeLessThan": 4}, False),
}
# rule id -> (operators and unit, passes?) for nullValues of note: 1 row, 25 percent
NULL_CASES: dict[str, tuple[dict[str, Any], bool]] = {
    "pct_less_or_equal_at_boundary": ({"mustBeLessOrEqualTo": 25, "unit": "percent"}, True),
    "pct_less_at_boundary": ({"mustBeLessThan": 25, "unit": "percent"}, False),
    "pct_be": ({"mustBe": 25, "unit": "percent"}, True),
    "pct_between": ({"mustBeBetween": [25, 30], "unit": "percent"}, True),
    "pct_not_between": ({"mustNotBeBetween": [20, 25], "unit": "percent"}, False),
    "rows_below_two": ({"mustBeLessThan": 2}, True),
    "rows_below_two_explicit": ({"mustBeLessThan": 2, "unit": "rows"}, True),
    "percent_below_two": ({"mustBeLessThan": 2, "unit": "percent"}, False),
}


@pytest.fixture
def report(lake: Any) -> Any:
    lake.table(TABLE, SCHEMA, ROWS)
    object_rules = [
        {"id": rule_id, "metric": "rowCount", **ops}
        for rule_id, (ops, _) in ROW_COUNT_CASES.items()
    ]
    note_rules = [
        {"id": rule_id, "metric": "nullValues", **ops} for rule_id, (ops, _) in NULL_CASES.items()
    ]
    properties = [{"name": "id"}, {"name": "note", "quality": note_rules}]
    return lake.run(lake.contract(lake.obj(TABLE, properties, object_rules)))


def test_row_count_operators(report: Any, lake: Any) -> None:
    rules = lake.rules(report.results[0])
    got = {k: (rules[k]["measured"], rules[k]["status"]) for k in ROW_COUNT_CASES}
    expected = {
        k: (ROW_COUNT, "pass" if passes else "fail") for k, (_, passes) in ROW_COUNT_CASES.items()
    }
    assert got == expected


def test_unit_rows_and_percent(report: Any, lake: Any) -> None:
    rules = lake.rules(report.results[0])
    got = {k: (rules[k]["measured"], rules[k]["status"]) for k in NULL_CASES}
    expected = {
        k: (
            NULL_PCT if ops.get("unit") == "percent" else ROWS["note"].count(None),
            "pass" if passes else "fail",
        )
        for k, (ops, passes) in NULL_CASES.items()
    }
    assert got == expected


def test_each_failed_rule_is_one_event_with_the_threshold_as_written(report: Any) -> None:
    failing = {k for k, (_, ok) in {**ROW_COUNT_CASES, **NULL_CASES}.items() if not ok}
    events = {e.metadata["rule"]: e for e in report.violations}

    assert len(report.violations) == len(failing)
    assert set(events) == failing
    assert report.results[0].status is CheckStatus.FAIL
    assert events["between_above"].expected_value == "mustBeBetween [5, 6]"
    assert events["between_above"].actual_value == "4"
    assert events["between_above"].element is None
    assert events["pct_less_at_boundary"].expected_value == "mustBeLessThan 25 percent"
    assert events["pct_less_at_boundary"].actual_value == "25"
    assert events["pct_less_at_boundary"].element == "note"
    assert (
        events["two_operators_one_fails"].expected_value
        == "mustBeGreaterThan 3 and mustBeLessThan 4"
    )
