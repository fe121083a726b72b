"""The quality score: the weighted share of evaluated rules that passed, from 0 to 100.

A rule weighs by its severity, so one failed error rule costs as much as three failed info
rules: info 1, warning 2, error 3, critical 4. Skipped rules and rules that could not be
evaluated (``error``) do not count; with none evaluated there is no score.
"""

from __future__ import annotations

from collections.abc import Sequence

from floe_core.events import ViolationSeverity
from floe_core.plugins.quality import RuleResult, RuleStatus

SEVERITY_WEIGHTS: dict[ViolationSeverity, int] = {
    ViolationSeverity.INFO: 1,
    ViolationSeverity.WARNING: 2,
    ViolationSeverity.ERROR: 3,
    ViolationSeverity.CRITICAL: 4,
}


def quality_score(results: Sequence[RuleResult]) -> float | None:
    """100 times the weight of passed rules over the weight of passed and failed ones."""
    evaluated = [r for r in results if r.status in (RuleStatus.PASS, RuleStatus.FAIL)]
    total = sum(SEVERITY_WEIGHTS[r.rule.severity] for r in evaluated)
    if not total:
        return None
    passed = sum(
        SEVERITY_WEIGHTS[r.rule.severity] for r in evaluated if r.status is RuleStatus.PASS
    )
    return round(100.0 * passed / total, 2)
