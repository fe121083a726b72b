"""What an SLA report says: per (contract, check type) and per window, from stored history only.

Numbers over several days combine the days' rows exactly as a single query over the raw rows
would: counts add up; averages (duration, quality score) and uptime are weighted by the
checks they average over (for uptime and quality score: the runs that measured, ``passed +
failed``, which is one probe or one score each).

Rules the report documents for its readers:

- ``compliance_pct`` = 100 x passed / (passed + failed): ``error`` and ``skipped`` runs
  measured nothing, so they neither comply nor breach. ``None`` when nothing was measured.
- ``coverage_pct`` = 100 x executed / expected checks, at most 100. Executed runs are those
  that passed, failed or errored (an errored run was attempted); a ``skipped`` run did not
  execute. Expected runs are those the schedule made due in the part of the window the
  contract was monitored, from its registration (unregistered: from the first day it has
  history in the report) to the end of the window or now: one when monitoring starts, then
  one per check interval (``check_intervals`` in the manifest, or the contract's registered
  overrides). When nothing was due (deprecation, which has no interval; monitoring that is
  off, ``continuous`` or ``on_demand``; a window before registration) expected and coverage
  are ``None``.
- ``trend`` of a window compares its compliance with that of the previous window with
  checks: up by at least ``TREND_POINTS`` percentage points is ``improving``, down by at
  least that much ``degrading``, anything between ``stable``; ``None`` for the first window
  or when either window measured nothing. A row's ``trend`` is that of its last window; its
  ``quality_score_trend`` applies the same rule to the average quality score (in points) of
  its last two windows that have one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from floe_core.state.daily import Aggregates

WindowKind = Literal["daily", "weekly", "monthly"]
WINDOW_KINDS: tuple[WindowKind, ...] = ("daily", "weekly", "monthly")
Trend = Literal["improving", "degrading", "stable"]
#: Percentage points (or quality-score points) a window must move to be a trend.
TREND_POINTS = 1.0


@dataclass(frozen=True)
class Totals(Aggregates):
    """The ``contract_daily_aggregates`` columns over any span of days."""

    @property
    def skipped_checks(self) -> int:
        """Runs that did not apply (``total - passed - failed - error``)."""
        return self.total_checks - self.passed_checks - self.failed_checks - self.error_checks

    @property
    def executed_checks(self) -> int:
        """Runs that executed: passed, failed or errored (``skipped`` ones did not)."""
        return self.passed_checks + self.failed_checks + self.error_checks

    @property
    def compliance_pct(self) -> float | None:
        """100 x passed / (passed + failed); ``None`` if no run measured anything."""
        measured = self.passed_checks + self.failed_checks
        return 100.0 * self.passed_checks / measured if measured else None

    @classmethod
    def of(cls, days: Iterable[Aggregates]) -> Totals:
        """The totals of several days (or spans), weighted as one query over them would be."""
        if isinstance(days, list) and len(days) == 1:  # a day alone (daily windows): a copy
            r = days[0]
            measured = r.passed_checks + r.failed_checks
            return cls(
                r.total_checks,
                r.passed_checks,
                r.failed_checks,
                r.error_checks,
                r.avg_duration_seconds if r.total_checks else None,
                r.min_quality_score,
                r.max_quality_score,
                r.avg_quality_score if measured else None,
                r.uptime_pct if measured else None,
                r.violation_count,
            )
        total = passed = failed = errors = violations = 0
        low: float | None = None
        high: float | None = None
        sums = [0.0, 0.0, 0.0]  # duration x total, quality x measured, uptime x measured
        weights = [0, 0, 0]
        for r in days:
            total += r.total_checks
            passed += r.passed_checks
            failed += r.failed_checks
            errors += r.error_checks
            violations += r.violation_count
            measured = r.passed_checks + r.failed_checks
            for i, (value, weight) in enumerate(
                (
                    (r.avg_duration_seconds, r.total_checks),
                    (r.avg_quality_score, measured),
                    (r.uptime_pct, measured),
                )
            ):
                if value is not None and weight:
                    sums[i] += value * weight
                    weights[i] += weight
            if r.min_quality_score is not None and (low is None or r.min_quality_score < low):
                low = r.min_quality_score
            if r.max_quality_score is not None and (high is None or r.max_quality_score > high):
                high = r.max_quality_score
        duration, quality, uptime = (sums[i] / weights[i] if weights[i] else None for i in range(3))
        return cls(total, passed, failed, errors, duration, low, high, quality, uptime, violations)

    def columns(self) -> dict[str, Any]:
        """The aggregate columns plus ``compliance_pct``, rounded for people and JSON."""
        return {
            "total_checks": self.total_checks,
            "passed_checks": self.passed_checks,
            "failed_checks": self.failed_checks,
            "error_checks": self.error_checks,
            "skipped_checks": self.skipped_checks,
            "avg_duration_seconds": _round(self.avg_duration_seconds, 4),
            "min_quality_score": _round(self.min_quality_score),
            "max_quality_score": _round(self.max_quality_score),
            "avg_quality_score": _round(self.avg_quality_score),
            "uptime_pct": _round(self.uptime_pct),
            "violation_count": self.violation_count,
            "compliance_pct": _round(self.compliance_pct),
        }


@dataclass(frozen=True)
class Coverage:
    """Checks executed against the checks the interval expects."""

    executed: int
    expected: int | None  # None: nothing was due (no interval, or not monitored then)

    @property
    def pct(self) -> float | None:
        """100 x executed / expected, at most 100; ``None`` when nothing was expected."""
        if not self.expected:
            return None
        return min(100.0, 100.0 * self.executed / self.expected)

    def text(self, none: str = "-", between: str = "/") -> str:
        """``12/96``, or ``12/-`` when nothing was expected: every format says it alike."""
        expected = none if self.expected is None else str(self.expected)
        return f"{self.executed}{between}{expected}"


@dataclass(frozen=True)
class WindowReport:
    """One window (a day, an ISO week or a month, cut to the report's period) of one row."""

    start: date
    end: date  # the last day, inclusive
    totals: Totals
    coverage: Coverage
    trend: Trend | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_start": self.start.isoformat(),
            "window_end": self.end.isoformat(),
            **self.totals.columns(),
            "executed_checks": self.coverage.executed,
            "expected_checks": self.coverage.expected,
            "coverage_pct": _round(self.coverage.pct),
            "trend": self.trend,
        }


@dataclass(frozen=True)
class ReportRow:
    """One (contract, check type) over the whole period, and window by window."""

    contract_name: str
    check_type: str
    totals: Totals
    coverage: Coverage
    windows: list[WindowReport]
    violations_by_severity: dict[str, int] = field(default_factory=dict)
    trend: Trend | None = None
    quality_score_trend: Trend | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract_name": self.contract_name,
            "check_type": self.check_type,
            **self.totals.columns(),
            "executed_checks": self.coverage.executed,
            "expected_checks": self.coverage.expected,
            "coverage_pct": _round(self.coverage.pct),
            "violations_by_severity": dict(self.violations_by_severity),
            "trend": self.trend,
            "quality_score_trend": self.quality_score_trend,
            "windows": [w.to_dict() for w in self.windows],
        }


@dataclass(frozen=True)
class ContractSummary:
    """One contract across its check types."""

    contract_name: str
    totals: Totals
    freshness_compliance_pct: float | None
    uptime_pct: float | None
    avg_quality_score: float | None
    violations: dict[str, dict[str, int]]  # violation type -> severity -> count

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract_name": self.contract_name,
            "total_checks": self.totals.total_checks,
            "compliance_pct": _round(self.totals.compliance_pct),
            "freshness_compliance_pct": _round(self.freshness_compliance_pct),
            "uptime_pct": _round(self.uptime_pct),
            "avg_quality_score": _round(self.avg_quality_score),
            "violation_count": self.totals.violation_count,
            "violations_by_type": {k: dict(v) for k, v in self.violations.items()},
        }


@dataclass(frozen=True)
class SLAReport:
    """An SLA compliance report over ``since`` to ``until`` (both whole UTC days, inclusive)."""

    since: date
    until: date
    window: WindowKind
    generated_at: datetime
    rows: list[ReportRow]
    contracts_pattern: str | None = None
    #: Days up to this one came from ``contract_daily_aggregates``; later ones from raw rows.
    aggregates_through: date | None = None

    @property
    def empty(self) -> bool:
        """Whether no check history fell in the period."""
        return not self.rows

    @property
    def message(self) -> str:
        """One sentence on what the report covers, or that there was nothing to report."""
        scope = (
            f" for contracts matching '{self.contracts_pattern}'" if self.contracts_pattern else ""
        )
        period = f"{self.since.isoformat()} to {self.until.isoformat()}"
        if self.empty:
            return f"No check history{scope} from {period} in the state database."
        names = {r.contract_name for r in self.rows}
        return (
            f"{len(names)} contract{'s' if len(names) != 1 else ''}{scope}, {period}, "
            f"{self.window} windows."
        )

    def summaries(self) -> list[ContractSummary]:
        """Each contract's summary across its check types."""
        by_contract: dict[str, list[ReportRow]] = {}
        for row in self.rows:
            by_contract.setdefault(row.contract_name, []).append(row)
        return [_summary(name, rows) for name, rows in by_contract.items()]

    def to_dict(self) -> dict[str, Any]:
        """The report as one JSON object: ``rows`` use ``contract_daily_aggregates`` names."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "window": self.window,
            "generated_at": self.generated_at.isoformat(),
            "contracts_pattern": self.contracts_pattern,
            "aggregates_through": (
                self.aggregates_through.isoformat() if self.aggregates_through else None
            ),
            "message": self.message,
            "contracts": [s.to_dict() for s in self.summaries()],
            "rows": [r.to_dict() for r in self.rows],
        }


def trend(previous: float | None, current: float | None) -> Trend | None:
    """``improving``/``degrading`` if ``current`` moved ``TREND_POINTS`` or more, else stable."""
    if previous is None or current is None:
        return None
    if current - previous >= TREND_POINTS:
        return "improving"
    if previous - current >= TREND_POINTS:
        return "degrading"
    return "stable"


def _summary(name: str, rows: Sequence[ReportRow]) -> ContractSummary:
    by_type = {r.check_type: r for r in rows}
    freshness, availability, quality = (
        by_type.get("freshness"),
        by_type.get("availability"),
        by_type.get("quality"),
    )
    return ContractSummary(
        contract_name=name,
        totals=Totals.of(r.totals for r in rows),
        freshness_compliance_pct=freshness.totals.compliance_pct if freshness else None,
        uptime_pct=availability.totals.uptime_pct if availability else None,
        avg_quality_score=quality.totals.avg_quality_score if quality else None,
        violations={
            r.check_type: dict(r.violations_by_severity) for r in rows if r.violations_by_severity
        },
    )


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
