"""Check history rolled up per (contract, check type, UTC day), as ``contract_daily_aggregates``.

``daily_rows`` computes those rows from the raw check results and violations; retention stores
them before raw rows go, and reports compute recent days with the very same function, so a
day reads the same from raw rows as from its aggregate.

=======================  ====================================================================
column                   from the raw rows of that day
=======================  ====================================================================
total_checks             every check result (``skipped`` ones too)
passed/failed/error      results with status ``pass`` / ``fail`` / ``error``
avg_duration_seconds     mean ``duration_seconds`` of all results
min/max/avg_quality      ``details.quality_score`` of the quality results that have one
uptime_pct               100 x successful / all probes (``details.probe.ok`` of availability
                         results; a run that could not probe is no probe)
violation_count          violations of that type detected that day
=======================  ====================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, Table, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.state.models import (
    ContractCheckResult,
    ContractDailyAggregate,
    ContractViolation,
    table_of,
)

#: Every check type and severity; naming them all lets PostgreSQL range-scan the
#: (check_type, checked_at) and (severity, detected_at) indexes for a time range.
CHECK_TYPES = tuple(t.value for t in ViolationType)
SEVERITIES = tuple(s.value for s in ViolationSeverity)


@dataclass(frozen=True)
class Aggregates:
    """The aggregate columns of ``contract_daily_aggregates``, in table order after the key."""

    total_checks: int = 0
    passed_checks: int = 0
    failed_checks: int = 0
    error_checks: int = 0
    avg_duration_seconds: float | None = None
    min_quality_score: float | None = None
    max_quality_score: float | None = None
    avg_quality_score: float | None = None
    uptime_pct: float | None = None
    violation_count: int = 0


_Day = date  # ``date`` is also a field of DailyRow


@dataclass(frozen=True, kw_only=True)
class DailyRow(Aggregates):
    """One (contract, check type, UTC day): a row of ``contract_daily_aggregates``."""

    contract_name: str
    check_type: str
    date: date

    @classmethod
    def of(cls, contract_name: str, check_type: str, day: _Day, *values: Any) -> DailyRow:
        """The row of ``day`` with the aggregate columns ``values`` in table order."""
        return cls(*values, contract_name=contract_name, check_type=check_type, date=day)

    def as_row(self) -> dict[str, Any]:
        """The row to store in ``contract_daily_aggregates``."""
        return asdict(self)


@dataclass(frozen=True)
class ContractFilter:
    """Which contracts: all (``None``), one by name, or a glob (``*``, ``?``, ``[...]``)."""

    pattern: str | None = None

    @property
    def exact(self) -> str | None:
        """The one contract name, if the pattern is not a glob."""
        if self.pattern is None or _GLOB.search(self.pattern):
            return None
        return self.pattern

    def where(self, column: ColumnElement[str]) -> ColumnElement[bool] | None:
        """A SQL condition narrowing ``column`` to the pattern (a superset for ``[...]``)."""
        if self.pattern is None:
            return None
        if (name := self.exact) is not None:
            return column == name
        if "[" in self.pattern:
            return None  # matched in Python by ``matches``
        escaped = re.sub(r"([\\%_])", r"\\\1", self.pattern)
        return column.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches the pattern, case-sensitively as in SQL."""
        from fnmatch import fnmatchcase

        return self.pattern is None or fnmatchcase(name, self.pattern)


_GLOB = re.compile(r"[*?\[]")


class utc_date(FunctionElement[date]):
    """The UTC calendar day of a timestamp column."""

    type = Date()
    inherit_cache = True


@compiles(utc_date)
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps timestamps as naive UTC text, which date() reads as it is.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(), tzinfo=UTC)


def as_date(value: date | str) -> date:
    """A day as the database returns it (SQLite: ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


async def daily_rows(
    conn: AsyncConnection, first: date, last: date, contracts: ContractFilter | None = None
) -> list[DailyRow]:
    """The daily rows of the days ``first`` to ``last`` (inclusive), from the raw rows."""
    contracts = contracts or ContractFilter()
    start, end = day_start(first), day_start(last + timedelta(days=1))
    results = await conn.execute(_results_query(start, end, contracts))
    rows: dict[tuple[str, str, date], dict[str, Any]] = {}
    for row in results.mappings():
        if not contracts.matches(row["contract_name"]):
            continue
        key = (row["contract_name"], row["check_type"], as_date(row["day"]))
        probes = int(row["probes"] or 0)
        rows[key] = {
            "total_checks": int(row["total"]),
            "passed_checks": int(row["passed"] or 0),
            "failed_checks": int(row["failed"] or 0),
            "error_checks": int(row["errors"] or 0),
            "avg_duration_seconds": _float(row["avg_duration"]),
            "min_quality_score": _float(row["min_quality"]),
            "max_quality_score": _float(row["max_quality"]),
            "avg_quality_score": _float(row["avg_quality"]),
            "uptime_pct": 100.0 * int(row["probes_ok"] or 0) / probes if probes else None,
        }
    violations = await conn.execute(_violations_query(start, end, contracts))
    for row in violations.mappings():
        if not contracts.matches(row["contract_name"]):
            continue
        key = (row["contract_name"], row["violation_type"], as_date(row["day"]))
        rows.setdefault(key, {})["violation_count"] = int(row["violations"])
    return [
        DailyRow(contract_name=name, check_type=kind, date=day, **values)
        for (name, kind, day), values in sorted(rows.items())
    ]


async def severity_counts(
    conn: AsyncConnection, start: datetime, end: datetime, contracts: ContractFilter | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """Violations per (contract, violation type) and severity detected in [start, end)."""
    contracts = contracts or ContractFilter()
    v = table_of(ContractViolation)
    stmt = (
        select(v.c.contract_name, v.c.violation_type, v.c.severity, func.count().label("n"))
        .where(*_window(v.c.severity, SEVERITIES, v.c.detected_at, start, end, contracts, v))
        .group_by(v.c.contract_name, v.c.violation_type, v.c.severity)
    )
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for name, kind, severity, n in (await conn.execute(stmt)).all():
        if contracts.matches(name):
            counts.setdefault((name, kind), {})[severity] = int(n)
    return counts


async def aggregated_rows(
    conn: AsyncConnection,
    first: date,
    last: date,
    contracts: ContractFilter | None = None,
    *,
    by: Literal["daily", "weekly", "monthly"] = "daily",
) -> list[DailyRow]:
    """The stored ``contract_daily_aggregates`` of the days ``first`` to ``last``.

    ``by="weekly"`` or ``"monthly"`` sums them in the database per ISO week or calendar
    month: each returned row then spans the days of one window and is dated by the first of
    them, its averages weighted as ``reporting.model.Totals.of`` weights them.
    """
    contracts = contracts or ContractFilter()
    a = table_of(ContractDailyAggregate)
    if by == "daily":
        stmt = select(*(a.c[name] for name in _DAILY_COLUMNS))
    else:
        stmt = _windowed(a, by, conn.dialect.name)
    stmt = stmt.where(a.c.date >= first, a.c.date <= last)
    if (narrowed := contracts.where(a.c.contract_name)) is not None:
        stmt = stmt.where(narrowed)
    rows = []
    for values in (await conn.execute(stmt)).all():
        if contracts.pattern is None or contracts.matches(values[0]):
            name, kind, day, *rest = values
            rows.append(DailyRow.of(name, kind, as_date(day), *rest))
    return sorted(rows, key=lambda r: (r.contract_name, r.check_type, r.date))


_DAILY_COLUMNS = ("contract_name", "check_type", "date", *(f.name for f in fields(Aggregates)))


def _windowed(a: Table, by: str, dialect: str) -> Any:
    """Aggregates summed per (contract, check type, window), dated by their first day."""
    day = a.c.date
    if dialect == "postgresql":
        start: Any = cast(func.date_trunc("week" if by == "weekly" else "month", day), Date)
    elif by == "weekly":  # SQLite: the Sunday on or after the day, less six days: Monday
        start = func.date(day, "weekday 0", "-6 days")
    else:
        start = func.date(day, "start of month")
    measured = a.c.passed_checks + a.c.failed_checks
    return select(
        a.c.contract_name,
        a.c.check_type,
        func.min(day),
        func.sum(a.c.total_checks),
        func.sum(a.c.passed_checks),
        func.sum(a.c.failed_checks),
        func.sum(a.c.error_checks),
        _weighted_avg(a.c.avg_duration_seconds, a.c.total_checks),
        func.min(a.c.min_quality_score),
        func.max(a.c.max_quality_score),
        _weighted_avg(a.c.avg_quality_score, measured),
        _weighted_avg(a.c.uptime_pct, measured),
        func.sum(a.c.violation_count),
    ).group_by(a.c.contract_name, a.c.check_type, start)


def _weighted_avg(value: Any, weight: Any) -> Any:
    """sum(value x weight) / sum(weight) over the rows with a value and a weight."""
    counted = case((value.is_not(None), weight), else_=0)
    return func.sum(value * counted) / func.nullif(func.sum(counted), 0)


async def last_aggregated_day(conn: AsyncConnection) -> date | None:
    """The newest day in ``contract_daily_aggregates``, if any."""
    a = table_of(ContractDailyAggregate)
    found = (await conn.execute(select(func.max(a.c.date)))).scalar_one()
    return as_date(found) if found is not None else None


def _results_query(start: datetime, end: datetime, contracts: ContractFilter) -> Any:
    r = table_of(ContractCheckResult)
    day = utc_date(r.c.checked_at).label("day")
    quality = case((r.c.check_type == ViolationType.QUALITY.value, _quality_score(r)))
    probe = r.c.details[("probe", "ok")].as_boolean()
    probe_ok = case((r.c.check_type == ViolationType.AVAILABILITY.value, probe))
    return (
        select(
            r.c.contract_name,
            r.c.check_type,
            day,
            func.count().label("total"),
            _count_if(r.c.status == CheckStatus.PASS.value).label("passed"),
            _count_if(r.c.status == CheckStatus.FAIL.value).label("failed"),
            _count_if(r.c.status == CheckStatus.ERROR.value).label("errors"),
            func.avg(r.c.duration_seconds).label("avg_duration"),
            func.min(quality).label("min_quality"),
            func.max(quality).label("max_quality"),
            func.avg(quality).label("avg_quality"),
            _count_if(probe_ok.is_(True)).label("probes_ok"),
            func.count(probe_ok).label("probes"),
        )
        .where(*_window(r.c.check_type, CHECK_TYPES, r.c.checked_at, start, end, contracts, r))
        .group_by(r.c.contract_name, r.c.check_type, day)
    )


def _violations_query(start: datetime, end: datetime, contracts: ContractFilter) -> Any:
    v = table_of(ContractViolation)
    day = utc_date(v.c.detected_at).label("day")
    return (
        select(v.c.contract_name, v.c.violation_type, day, func.count().label("violations"))
        .where(*_window(v.c.severity, SEVERITIES, v.c.detected_at, start, end, contracts, v))
        .group_by(v.c.contract_name, v.c.violation_type, day)
    )


def _window(
    kind: ColumnElement[str],
    kinds: Sequence[str],
    at: ColumnElement[datetime],
    start: datetime,
    end: datetime,
    contracts: ContractFilter,
    table: Table,
) -> list[ColumnElement[bool]]:
    """Rows of [start, end), by contract when one is named, else through the ``kind`` index."""
    conditions = [at >= start, at < end]
    narrowed = contracts.where(table.c.contract_name)
    if narrowed is not None:
        conditions.append(narrowed)
    if contracts.exact is None:
        conditions.append(kind.in_(kinds))
    return [and_(*conditions)]


def _quality_score(r: Table) -> ColumnElement[float]:
    score: ColumnElement[float] = r.c.details["quality_score"].as_float()
    return score


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
