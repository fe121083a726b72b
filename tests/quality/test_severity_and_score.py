"""Severity from each rule's ODCS severity (ERROR without one), the rule and dimension in each
event's metadata, and the severity-weighted quality score."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from floe_core.events import CheckStatus, ViolationSeverity
from floe_core.plugins.quality import QualityRule, RuleResult, RuleStatus, RuleType
from floe_core.quality.plugin import DuckDBQualityPlugin

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("note", pa.string())])
ROWS = {"id": [1, 2, 3, 4], "note": ["a", None, "b", "c"]}
WEIGHTS = {"info": 1, "warning": 2, "error": 3, "critical": 4}

PASS, FAIL = {"mustBe": 4}, {"mustBe": 3}  # rowCount measures 4


def row_count(severity: str | None, outcome: dict[str, int], **names: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"metric": "rowCount", **outcome, **names}
    if severity is not None:
        rule["severity"] = severity
    return rule


@pytest.fixture
def table(lake: Any) -> None:
    lake.table(TABLE, SCHEMA, ROWS)


def run(lake: Any, object_rules: list[dict[str, Any]], note_rules: list[dict[str, Any]]) -> Any:
    properties = [{"name": "id"}, {"name": "note", "quality": note_rules}]
    return lake.run(lake.contract(lake.obj(TABLE, properties, object_rules)))


@pytest.mark.usefixtures("table")
def test_early_warnings_leave_the_check_passing_with_their_events(lake: Any) -> None:
    object_rules = [
        row_count("info", FAIL, id="info_rule", dimension="completeness"),
        row_count("warning", FAIL, id="warning_rule", name="ignored name"),
        row_count("warning", PASS, name="named_rule"),
        row_count("error", PASS, id="error_rule"),
    ]
    report = run(lake, object_rules, [])

    [result] = report.results
    assert result.status is CheckStatus.PASS
    events = {e.metadata["rule"]: e for e in report.violations}
    assert {k: e.severity for k, e in events.items()} == {
        "info_rule": ViolationSeverity.INFO,
        "warning_rule": ViolationSeverity.WARNING,
    }
    assert events["info_rule"].metadata["dimension"] == "completeness"
    assert "dimension" not in events["warning_rule"].metadata
    assert set(lake.rules(result)) == {"info_rule", "warning_rule", "named_rule", "error_rule"}
    passed = WEIGHTS["warning"] + WEIGHTS["error"]
    total = WEIGHTS["info"] + 2 * WEIGHTS["warning"] + WEIGHTS["error"]
    assert result.details["quality_score"] == pytest.approx(100 * passed / total)


@pytest.mark.usefixtures("table")
def test_a_failed_rule_without_severity_is_an_error_and_fails_the_check(lake: Any) -> None:
    object_rules = [
        row_count("critical", FAIL, id="critical_rule"),
        row_count("Error", FAIL, id="capitalised_error"),
        row_count("unheard-of", FAIL, id="unknown_severity"),
    ]
    note_rules = [{"metric": "nullValues", "mustBe": 0}]  # no id, no name: named by metric
    report = run(lake, object_rules, note_rules)

    [result] = report.results
    assert result.status is CheckStatus.FAIL
    events = {e.metadata["rule"]: e for e in report.violations}
    assert {k: e.severity for k, e in events.items()} == {
        "critical_rule": ViolationSeverity.CRITICAL,
        "capitalised_error": ViolationSeverity.ERROR,
        "unknown_severity": ViolationSeverity.ERROR,
        "nullValues": ViolationSeverity.ERROR,
    }
    null_event = events["nullValues"]
    assert (null_event.element, null_event.expected_value, null_event.actual_value) == (
        "note",
        "mustBe 0",
        str(ROWS["note"].count(None)),
    )
    assert null_event.metadata["path"] == "schema[0].properties[1].quality[0]"
    assert "schema[0].properties[1].quality[0]" in null_event.message
    assert result.violation is not None
    assert result.violation.severity is ViolationSeverity.CRITICAL
    assert result.details["quality_score"] == 0.0


def result_of(status: RuleStatus, severity: ViolationSeverity) -> RuleResult:
    rule = QualityRule(
        name="r",
        path="schema[0].quality[0]",
        object_name="orders",
        type=RuleType.SQL,
        severity=severity,
    )
    return RuleResult(rule=rule, status=status, measured=None)


def test_the_score_weighs_evaluated_rules_by_severity() -> None:
    s, st = ViolationSeverity, RuleStatus
    results = [
        result_of(st.PASS, s.INFO),
        result_of(st.FAIL, s.WARNING),
        result_of(st.PASS, s.ERROR),
        result_of(st.FAIL, s.CRITICAL),
        result_of(st.SKIPPED, s.CRITICAL),  # not evaluated: does not count
        result_of(st.ERROR, s.ERROR),  # could not be evaluated: does not count
    ]
    plugin = DuckDBQualityPlugin()

    passed = WEIGHTS["info"] + WEIGHTS["error"]
    total = sum(WEIGHTS.values())
    assert plugin.calculate_quality_score(results) == round(100 * passed / total, 2)
    assert plugin.calculate_quality_score(results[4:]) is None
    assert plugin.calculate_quality_score([results[0]]) == 100.0
