"""Rolling SLA status per (contract, check type), from the persisted history plus this run.

Only runs that measured the SLA (``pass`` or ``fail``) update a status; ``error`` and
``skipped`` runs measured nothing, so the stored status stays as the last measurement left it.

========================  ==============================================  =================
check type                current_value                                   threshold
========================  ==============================================  =================
freshness                 age in seconds of the stalest table             its SLA seconds
                          (``inf`` when a table has no data)
quality                   the quality score (0-100)                       100
availability              uptime % of the probes in the last 24 h         the SLA target %
                                                                          (100 without one)
schema_drift              number of differences found                     0
deprecation               whole days until end of life (0 once passed,    0
                          or without an end of life)
========================  ==============================================  =================

- ``compliance_pct``: 100 x passed / (passed + failed) runs in the last 24 h, this one included.
- ``consecutive_failures``: failed runs since the last passing run, this one included (error
  and skipped runs neither count nor break the streak).
- ``violation_count_24h``: breaching runs (an ERROR or worse event) in the last 24 h, this
  one included; ``window_start`` is ``now - 24 h``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationType,
)
from floe_core.monitoring.escalation import breached_types
from floe_core.monitoring.history import SLA_WINDOW, RunHistory, TypeHistory

_MEASURED = (CheckStatus.PASS, CheckStatus.FAIL)


def sla_statuses(
    results: Sequence[CheckResult],
    events: Sequence[ContractViolationEvent],
    history: RunHistory,
    now: datetime,
) -> list[SLAStatus]:
    """The new SLA status of each check type this run measured."""
    breached = breached_types(events)
    return [
        sla_status(result, history.types.get(result.check_type, TypeHistory()), breached, now)
        for result in results
        if result.status in _MEASURED
    ]


def sla_status(
    result: CheckResult, past: TypeHistory, breached: set[ViolationType], now: datetime
) -> SLAStatus:
    """One check type's status after ``result``, given its persisted past."""
    statuses = [p.status for p in past.runs if p.status in _MEASURED] + [result.status]
    passed = sum(s is CheckStatus.PASS for s in statuses)
    failed = result.status is CheckStatus.FAIL
    current, threshold = _MEASURES[result.check_type](result, past)
    return SLAStatus(
        contract_name=result.contract_name,
        check_type=result.check_type,
        current_value=current,
        threshold=threshold,
        compliance_pct=100.0 * passed / len(statuses),
        last_check_time=result.timestamp,
        consecutive_failures=past.consecutive_failures + 1 if failed else 0,
        violation_count_24h=past.breaches_24h + (result.check_type in breached),
        window_start=now - SLA_WINDOW,
    )


def _freshness(result: CheckResult, past: TypeHistory) -> tuple[float, float]:
    tables: list[dict[str, Any]] = result.details.get("tables") or []
    if not tables:
        return 0.0, 0.0
    stalest = max(tables, key=_age)
    return _age(stalest), float(stalest.get("threshold_seconds") or 0.0)


def _age(table: dict[str, Any]) -> float:
    age = table.get("age_seconds")
    return float("inf") if age is None else float(age)


def _quality(result: CheckResult, past: TypeHistory) -> tuple[float, float]:
    score = result.details.get("quality_score")
    if not isinstance(score, int | float):
        score = 100.0 if result.status is CheckStatus.PASS else 0.0
    return float(score), 100.0


def _availability(result: CheckResult, past: TypeHistory) -> tuple[float, float]:
    target = result.details.get("target_pct")
    threshold = float(target) if isinstance(target, int | float) else 100.0
    probe = result.details.get("probe")
    if not isinstance(probe, dict) or not isinstance(probe.get("ok"), bool):
        return float(result.details.get("uptime_pct") or 0.0), threshold
    outcomes = [p.ok for p in past.probes] + [probe["ok"]]
    return 100.0 * sum(outcomes) / len(outcomes), threshold


def _schema_drift(result: CheckResult, past: TypeHistory) -> tuple[float, float]:
    return float(result.details.get("changes") or 0), 0.0


def _deprecation(result: CheckResult, past: TypeHistory) -> tuple[float, float]:
    days = result.details.get("days_until_end_of_life")
    return (float(max(days, 0)) if isinstance(days, int | float) else 0.0), 0.0


_MEASURES: dict[ViolationType, Callable[[CheckResult, TypeHistory], tuple[float, float]]] = {
    ViolationType.FRESHNESS: _freshness,
    ViolationType.QUALITY: _quality,
    ViolationType.AVAILABILITY: _availability,
    ViolationType.SCHEMA_DRIFT: _schema_drift,
    ViolationType.DEPRECATION: _deprecation,
}
