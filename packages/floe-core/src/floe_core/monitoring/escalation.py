"""Repeated breaches become CRITICAL: the rule, applied to one run's results and events.

A breach is one check run with at least one ERROR (or CRITICAL) violation; the events of one
run count once. When this run's breach of a check type is more than
``severity_thresholds.critical_count`` breaches of that type for the contract within
``critical_window_hours`` (the persisted ones plus this one), its ERROR events become
CRITICAL, with ``metadata.escalated = "true"`` and ``metadata.breaches_in_window``. With the
defaults (3 in 24 h), the fourth breach in a day is the first CRITICAL one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from floe_core.config import SeverityThresholds
from floe_core.events import CheckResult, ContractViolationEvent, ViolationSeverity, ViolationType


def breached_types(events: Sequence[ContractViolationEvent]) -> set[ViolationType]:
    """The check types this run breached (an ERROR or worse event)."""
    return {e.violation_type for e in events if e.severity.rank >= ViolationSeverity.ERROR.rank}


def escalate(
    results: Sequence[CheckResult],
    events: Sequence[ContractViolationEvent],
    prior_breaches: Mapping[ViolationType, int],
    thresholds: SeverityThresholds,
) -> tuple[list[CheckResult], list[ContractViolationEvent]]:
    """``results`` and ``events`` with the ERROR events of repeatedly breached types CRITICAL.

    ``prior_breaches`` counts the persisted breaches of each type within the critical window,
    this run's not included. Each result's ``violation`` becomes its escalated event too.
    """
    counts = {
        t: prior_breaches.get(t, 0) + 1
        for t in breached_types(events)
        if prior_breaches.get(t, 0) + 1 > thresholds.critical_count
    }
    if not counts:
        return list(results), list(events)

    def bump(event: ContractViolationEvent) -> ContractViolationEvent:
        count = counts.get(event.violation_type)
        if count is None or event.severity is not ViolationSeverity.ERROR:
            return event
        return event.model_copy(
            update={
                "severity": ViolationSeverity.CRITICAL,
                "metadata": {
                    **event.metadata,
                    "escalated": "true",
                    "breaches_in_window": str(count),
                },
            }
        )

    def carry(result: CheckResult) -> CheckResult:
        if result.violation is None:
            return result
        bumped = bump(result.violation)
        return (
            result
            if bumped is result.violation
            else result.model_copy(update={"violation": bumped})
        )

    return [carry(r) for r in results], [bump(e) for e in events]
