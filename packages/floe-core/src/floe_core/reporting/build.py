"""Build an ``SLAReport`` from the state database: aggregates for older days, raw rows for recent.

Days up to the newest day in ``contract_daily_aggregates`` are read from there (retention
rolls every complete day up); later days are rolled up on the fly from the raw rows by the
same function retention uses, so the two sources cannot disagree. The severity breakdown of
violations comes from the raw violations, so it covers only days still within retention.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from floe_core.config import MonitoringConfig
from floe_core.errors import InputError
from floe_core.events import ViolationType
from floe_core.reporting.model import (
    WINDOW_KINDS,
    Coverage,
    ReportRow,
    SLAReport,
    Totals,
    WindowKind,
    WindowReport,
    trend,
)
from floe_core.state.daily import (
    ContractFilter,
    DailyRow,
    aggregated_rows,
    daily_rows,
    day_start,
    last_aggregated_day,
    severity_counts,
)
from floe_core.state.store import StateStore

T = TypeVar("T")

#: The default period: the last 30 days, today included.
DEFAULT_DAYS = 30


async def build_report(
    store: StateStore,
    *,
    since: date | None = None,
    until: date | None = None,
    window: WindowKind = "weekly",
    contracts: str | None = None,
    config: MonitoringConfig | None = None,
    now: datetime | None = None,
) -> SLAReport:
    """The SLA report of ``since`` to ``until`` (UTC days, inclusive) from ``store``.

    ``contracts`` is a contract name or a glob (``sales_*``); ``config`` gives the check
    intervals that coverage is measured against (registered contracts' overrides win).
    Defaults: the last 30 days to today, weekly windows, all contracts.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    until = until or now.date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise InputError(
            f"the report starts ({since.isoformat()}) after it ends ({until.isoformat()}); "
            "give a --since on or before --until"
        )
    if window not in WINDOW_KINDS:
        raise InputError(f"unknown window '{window}'; use one of {', '.join(WINDOW_KINDS)}")
    selected = ContractFilter(contracts)
    async with store.engine.connect() as conn:
        aggregated_through = await last_aggregated_day(conn)
        await conn.rollback()
    raw_from, reads = since, list[Awaitable[list[DailyRow]]]()
    if aggregated_through is not None and aggregated_through >= since:
        last = min(until, aggregated_through)
        reads.append(_read(store, aggregated_rows, since, last, selected, by=window))
        raw_from = last + timedelta(days=1)
    if raw_from <= until:
        reads.append(_read(store, daily_rows, raw_from, until, selected))
    # The reads are independent: on their own connections the database runs them at once.
    severities, registered_contracts, parts = await asyncio.gather(
        _read(store, severity_counts, day_start(since), day_start(until + timedelta(1)), selected),
        store.registrations(),
        asyncio.gather(*reads),
    )
    days = [day for part in parts for day in part]
    registrations = {
        r.contract_name: r for r in registered_contracts if selected.matches(r.contract_name)
    }
    config = config or MonitoringConfig()
    spans = [_Span.of(start, end) for start, end in windows(since, until, window)]
    span_of = {  # each day of the period -> the index of its window
        span.start + timedelta(days=n): i
        for i, span in enumerate(spans)
        for n in range((span.end - span.start).days + 1)
    }
    by_pair: dict[tuple[str, str], list[DailyRow]] = defaultdict(list)
    for day in days:
        by_pair[day.contract_name, day.check_type].append(day)
    rows = []
    for (name, check_type), pair_days in sorted(by_pair.items()):
        registered = registrations.get(name)
        monitoring = (
            registered.monitoring_overrides
            if registered is not None and registered.monitoring_overrides is not None
            else config
        )
        monitored_from = (
            registered.registered_at
            if registered is not None
            else day_start(min(d.date for d in pair_days))
        )
        rows.append(
            _row(
                name,
                check_type,
                pair_days,
                spans,
                span_of,
                _interval(monitoring, check_type),
                monitored_from,
                now,
                severities.get((name, check_type), {}),
            )
        )
    return SLAReport(
        since=since,
        until=until,
        window=window,
        generated_at=now,
        rows=rows,
        contracts_pattern=contracts,
        aggregates_through=aggregated_through,
    )


async def _read(store: StateStore, query: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
    """``query(conn, *args, **kw)`` on a connection of its own."""
    async with store.engine.connect() as conn:
        try:
            return await query(conn, *args, **kw)
        finally:
            await conn.rollback()


def windows(since: date, until: date, kind: WindowKind) -> list[tuple[date, date]]:
    """The windows of ``since`` to ``until`` (inclusive): days, ISO weeks or calendar months."""
    spans = []
    start = since
    while start <= until:
        if kind == "daily":
            end = start
        elif kind == "weekly":
            end = start + timedelta(days=6 - start.weekday())
        else:
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            end = following - timedelta(days=1)
        end = min(end, until)
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


@dataclass(frozen=True)
class _Span:
    """One window: its first and last day, and the instants it starts and ends."""

    start: date
    end: date
    begins: datetime
    ends: datetime

    @classmethod
    def of(cls, start: date, end: date) -> _Span:
        return cls(start, end, day_start(start), day_start(end + timedelta(days=1)))

    def expected(
        self, interval: timedelta | None, monitored_from: datetime, now: datetime
    ) -> int | None:
        """Runs due in the window while monitored (one at ``monitored_from``, then one per
        ``interval``); ``None`` when none was due or there is no interval."""
        start, end = max(self.begins, monitored_from), min(self.ends, now)
        if interval is None or end <= start:
            return None
        due = _due_before(end, monitored_from, interval) - _due_before(
            start, monitored_from, interval
        )
        return due or None


def _due_before(instant: datetime, first: datetime, interval: timedelta) -> int:
    """How many of ``first``, ``first + interval``, ... fall before ``instant``."""
    return max(0, -((first - instant) // interval))  # ceil((instant - first) / interval)


def _sum(counts: Iterable[int | None]) -> int | None:
    """The total of the known counts; ``None`` if none is known."""
    known = [count for count in counts if count is not None]
    return sum(known) if known else None


def _row(
    name: str,
    check_type: str,
    days: Sequence[DailyRow],
    spans: Sequence[_Span],
    span_of: dict[date, int],
    interval: timedelta | None,
    monitored_from: datetime,
    now: datetime,
    severities: dict[str, int],
) -> ReportRow:
    reports: list[WindowReport] = []
    buckets: dict[int, list[DailyRow]] = defaultdict(list)
    for day in days:
        buckets[span_of[day.date]].append(day)
    for i, span in enumerate(spans):
        inside = buckets.get(i)
        if not inside:
            continue
        totals = Totals.of(inside)
        expected = span.expected(interval, monitored_from, now)
        previous = reports[-1].totals.compliance_pct if reports else None
        reports.append(
            WindowReport(
                span.start,
                span.end,
                totals,
                Coverage(totals.executed_checks, expected),
                trend(previous, totals.compliance_pct),
            )
        )
    totals = Totals.of(days)
    expected_total = _sum(span.expected(interval, monitored_from, now) for span in spans)
    scored = [w.totals.avg_quality_score for w in reports if w.totals.avg_quality_score is not None]
    return ReportRow(
        contract_name=name,
        check_type=check_type,
        totals=totals,
        coverage=Coverage(totals.executed_checks, expected_total),
        windows=reports,
        violations_by_severity=dict(sorted(severities.items(), key=_severity_order)),
        trend=reports[-1].trend if reports else None,
        quality_score_trend=trend(scored[-2], scored[-1]) if len(scored) >= 2 else None,
    )


def _interval(monitoring: MonitoringConfig, check_type: str) -> timedelta | None:
    """How often runs of ``check_type`` are due; ``None`` when they are not on a schedule:
    deprecation (no interval), or monitoring off, ``continuous`` or ``on_demand``."""
    if not monitoring.enabled or monitoring.mode != "scheduled":
        return None
    intervals = monitoring.check_intervals
    minutes = {
        ViolationType.FRESHNESS.value: intervals.freshness_minutes,
        ViolationType.SCHEMA_DRIFT.value: intervals.schema_drift_minutes,
        ViolationType.QUALITY.value: intervals.quality_minutes,
        ViolationType.AVAILABILITY.value: intervals.availability_minutes,
    }.get(check_type)
    return None if minutes is None else timedelta(minutes=minutes)


_SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


def _severity_order(item: tuple[str, int]) -> int:
    return _SEVERITY_ORDER.get(item[0], len(_SEVERITY_ORDER))
