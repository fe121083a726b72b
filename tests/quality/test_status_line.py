"""The quality check's status line says why a check with failed rules still passes."""

from __future__ import annotations

import pytest

from floe_core.cli.output import summarize
from floe_core.events import CheckStatus, ViolationType
from tests._factories import T0, check_result


def quality_line(score: float, *rules: tuple[str, str]) -> str:
    details = {
        "quality_score": score,
        "rules": [{"status": status, "severity": severity} for status, severity in rules],
    }
    return summarize(check_result(T0, CheckStatus.PASS, ViolationType.QUALITY, details=details))


@pytest.mark.parametrize(
    ("rules", "line"),
    [
        (
            [("pass", "error"), ("pass", "warning")],
            "quality score 100.0/100; 2 of 2 rule(s) passed",
        ),
        (
            [("fail", "warning")],
            "quality score 0.0/100; 0 of 1 rule(s) passed; the one that failed is a warning, "
            "which does not fail the check",
        ),
        (
            [("fail", "warning"), ("fail", "info"), ("pass", "error")],
            "quality score 0.0/100; 1 of 3 rule(s) passed; the 2 that failed are warnings, "
            "which do not fail the check",
        ),
        (
            [("fail", "warning"), ("fail", "error")],
            "quality score 0.0/100; 0 of 2 rule(s) passed; 1 of the 2 that failed is a warning",
        ),
        ([("fail", "error")], "quality score 0.0/100; 0 of 1 rule(s) passed"),
    ],
)
def test_the_status_line_names_failures_at_warning_level(
    rules: list[tuple[str, str]], line: str
) -> None:
    score = 100.0 if all(status == "pass" for status, _ in rules) else 0.0
    assert quality_line(score, *rules) == line
