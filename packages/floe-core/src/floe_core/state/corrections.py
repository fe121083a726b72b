"""Correcting history: one contract's check runs in a time range removed, in one transaction.

A misconfigured check can leave wrong runs in the database, which escalation, SLA status and
reports would go on reading. Inside ``correcting`` (one write transaction), ``remove_history``
deletes a contract's check results in ``[since, until)`` (of some check types, or all) with
their violations; the caller then puts back, in the same transaction, what was derived from
them:

- the SLA status of each check type touched: ``last_measured`` and ``past_of`` read what the
  monitor read to compute it (the formulas are ``monitoring.sla_status``'s, a layer above),
  ``replace_status`` writes it (or removes it when no measured run is left);
- the daily aggregates of the days touched, ``rebuild_aggregates``.

A violation goes with its check result: one whose result is kept stays, and one recorded
without a result goes by its own detection time. Availability probes are not stored apart
(they are the availability results' ``details.probe``), so they go with their results.

Daily aggregates: a (check type, day) touched that is already rolled up (on or before the
newest aggregated day) is rolled up again from its remaining raw rows by ``daily_rows``, as
retention does; left without rows, its aggregate row goes. Later days have no aggregates yet
(reports read their raw rows). A day of the range whose raw rows retention already purged
holds nothing to remove and cannot be rebuilt, since what its aggregates counted is gone:
they are kept as they are and named in ``HistoryRemoval.kept_aggregate_days``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core._time import as_utc
from floe_core.errors import InputError
from floe_core.events import CheckResult, CheckStatus, SLAStatus, ViolationType
from floe_core.state.daily import (
    ContractFilter,
    as_date,
    daily_rows,
    day_start,
    last_aggregated_day,
    utc_date,
)
from floe_core.state.engine import SQLITE_BEGIN
from floe_core.state.models import (
    ContractCheckResult,
    ContractDailyAggregate,
    ContractSLAStatus,
    ContractViolation,
    RegisteredContractRow,
    table_of,
)
from floe_core.state.store import (
    BREACH_SEVERITIES,
    HistoryPoint,
    ProbePoint,
    _status_row,
    check_result_of,
)

#: Statuses of runs that measured the SLA; only they make an SLA status.
MEASURED = (CheckStatus.PASS.value, CheckStatus.FAIL.value)

#: (check type, UTC day): one row of ``contract_daily_aggregates`` of the contract.
DayKey = tuple[str, date]


@dataclass(frozen=True)
class HistorySelection:
    """One contract's history in ``[since, until)``, of ``check_types`` (none given: all)."""

    contract_name: str
    since: datetime
    until: datetime
    check_types: tuple[ViolationType, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", as_utc(self.since))
        object.__setattr__(self, "until", as_utc(self.until))
        if self.until <= self.since:
            raise InputError(
                f"the range ends ({iso(self.until)}) before it starts ({iso(self.since)}): "
                "give an --until later than --since"
            )

    @property
    def kinds(self) -> list[str]:
        """The check types selected, as stored."""
        return [k.value for k in self.check_types or tuple(ViolationType)]


@dataclass(frozen=True)
class Count:
    """Rows of one check type with one outcome: a result's status, or a violation's severity."""

    check_type: str
    outcome: str
    rows: int


@dataclass(frozen=True)
class HistoryRemoval:
    """What a selection holds (before removing it) or held (once removed)."""

    selection: HistorySelection
    results: tuple[Count, ...] = ()  # per (check type, status)
    violations: tuple[Count, ...] = ()  # per (violation type, severity)
    first: datetime | None = None  # the oldest row's time
    last: datetime | None = None  # the newest row's time
    days: frozenset[DayKey] = frozenset()  # (check type, UTC day) of the rows
    kept_aggregate_days: tuple[date, ...] = ()  # only aggregates left: cannot be corrected
    contract_known: bool = True  # anything at all recorded of the contract

    @property
    def result_count(self) -> int:
        """Check results in the selection."""
        return sum(c.rows for c in self.results)

    @property
    def violation_count(self) -> int:
        """Violations in the selection."""
        return sum(c.rows for c in self.violations)

    @property
    def empty(self) -> bool:
        """Nothing to remove."""
        return not self.results and not self.violations

    @property
    def check_types(self) -> list[ViolationType]:
        """The check types with something to remove, in their usual order."""
        found = {c.check_type for c in (*self.results, *self.violations)}
        return [k for k in ViolationType if k.value in found]

    def to_dict(self) -> dict[str, Any]:
        """The selection and what it holds, as JSON shows them."""
        return {
            "contract_name": self.selection.contract_name,
            "since": iso(self.selection.since),
            "until": iso(self.selection.until),
            "check_types": self.selection.kinds,
            "removed": {
                "check_results": self.result_count,
                "violations": self.violation_count,
                "first": iso(self.first) if self.first else None,
                "last": iso(self.last) if self.last else None,
                "check_results_by_status": [
                    {"check_type": c.check_type, "status": c.outcome, "count": c.rows}
                    for c in self.results
                ],
                "violations_by_severity": [
                    {"check_type": c.check_type, "severity": c.outcome, "count": c.rows}
                    for c in self.violations
                ],
            },
        }


@dataclass(frozen=True)
class RunPast:
    """The persisted history of one run's check type as the monitor read it before the run."""

    runs: list[HistoryPoint]  # within the window before it, oldest first
    consecutive_failures: int  # failed runs since the last passing one before it
    breaches: int  # breaching runs within the window before it
    probes: list[ProbePoint]  # availability probes within the window before it
    breached: bool  # whether the run itself breached (an ERROR or CRITICAL violation)


@dataclass(frozen=True)
class AggregateRebuild:
    """The daily aggregate rows a correction rolled up again, and those it removed."""

    rebuilt: tuple[DayKey, ...] = ()
    removed: tuple[DayKey, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Both lists as JSON shows them."""

        def rows(keys: tuple[DayKey, ...]) -> list[dict[str, str]]:
            return [{"check_type": kind, "date": day.isoformat()} for kind, day in keys]

        return {"rebuilt": rows(self.rebuilt), "removed": rows(self.removed)}


def iso(moment: datetime) -> str:
    """A UTC instant as floe's JSON writes one: ``2024-06-01T12:00:00Z``."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


@asynccontextmanager
async def correcting(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One write transaction, committed when the block ends without an exception.

    On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so that what the
    correction reads is what it changes.
    """
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        async with conn.begin():
            yield conn


async def preview_removal(conn: AsyncConnection, selection: HistorySelection) -> HistoryRemoval:
    """What ``remove_history`` would remove, counted; nothing is changed."""
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    results = await _grouped(
        conn, r.c.check_type, r.c.status, r.c.checked_at, _results_in(selection)
    )
    violations = await _grouped(
        conn, v.c.violation_type, v.c.severity, v.c.detected_at, [_violations_in(selection)]
    )
    groups = results + violations
    return HistoryRemoval(
        selection=selection,
        results=_counts(results),
        violations=_counts(violations),
        first=min((g.first for g in groups), default=None),
        last=max((g.last for g in groups), default=None),
        days=frozenset((g.kind, g.day) for g in groups),
        kept_aggregate_days=await _kept_aggregate_days(conn, selection),
        contract_known=bool(groups) or await _known(conn, selection.contract_name),
    )


async def remove_history(conn: AsyncConnection, selection: HistorySelection) -> HistoryRemoval:
    """Delete the selection's check results and their violations; what was there, counted."""
    removal = await preview_removal(conn, selection)
    if not removal.empty:
        r, v = table_of(ContractCheckResult), table_of(ContractViolation)
        await conn.execute(delete(v).where(_violations_in(selection)))
        await conn.execute(delete(r).where(*_results_in(selection)))
    return removal


async def last_measured(
    conn: AsyncConnection, contract_name: str, check_type: ViolationType
) -> CheckResult | None:
    """The newest stored run of ``check_type`` that measured its SLA (``pass`` or ``fail``)."""
    r = table_of(ContractCheckResult)
    stmt = (
        select(r)
        .where(
            r.c.contract_name == contract_name,
            r.c.check_type == check_type.value,
            r.c.status.in_(MEASURED),
        )
        .order_by(r.c.checked_at.desc(), r.c.created_at.desc())
        .limit(1)
    )
    row = (await conn.execute(stmt)).mappings().first()
    return check_result_of(row) if row is not None else None


async def past_of(conn: AsyncConnection, result: CheckResult, window: timedelta) -> RunPast:
    """What was stored of ``result``'s contract and check type before it, within ``window``.

    The same facts the monitor reads before judging a run (``StateStore.check_histories``,
    ``consecutive_failures_by_type``, ``breaches_by_type``, ``probe_history``), as of the
    run's time and without the run itself.
    """
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    at, me = as_utc(result.timestamp), uuid.UUID(result.id)
    since = at - window
    before = (
        r.c.contract_name == result.contract_name,
        r.c.check_type == result.check_type.value,
        r.c.checked_at <= at,
        r.c.id != me,
    )
    probe = r.c.details[("probe", "ok")].as_boolean()
    rows = (
        await conn.execute(
            select(r.c.checked_at, r.c.status, probe)
            .where(*before, r.c.checked_at >= since)
            .order_by(r.c.checked_at)
        )
    ).all()
    last_pass = (
        await conn.execute(
            select(func.max(r.c.checked_at)).where(*before, r.c.status == CheckStatus.PASS.value)
        )
    ).scalar_one()
    failed = select(func.count()).where(*before, r.c.status == CheckStatus.FAIL.value)
    if last_pass is not None:
        failed = failed.where(r.c.checked_at > last_pass)
    breaching = (
        v.c.contract_name == result.contract_name,
        v.c.violation_type == result.check_type.value,
        v.c.severity.in_(BREACH_SEVERITIES),
    )
    runs = func.count(func.distinct(func.coalesce(v.c.check_result_id, v.c.id)))
    breaches = select(runs).where(
        *breaching,
        v.c.detected_at >= since,
        v.c.detected_at <= at,
        or_(v.c.check_result_id.is_(None), v.c.check_result_id != me),
    )
    itself = select(func.count()).where(*breaching, v.c.check_result_id == me)
    availability = result.check_type is ViolationType.AVAILABILITY
    return RunPast(
        runs=[HistoryPoint(as_utc(when), CheckStatus(status)) for when, status, _ in rows],
        consecutive_failures=int((await conn.execute(failed)).scalar_one()),
        breaches=int((await conn.execute(breaches)).scalar_one()),
        probes=[
            ProbePoint(as_utc(when), bool(ok))
            for when, _, ok in rows
            if availability and ok is not None
        ],
        breached=int((await conn.execute(itself)).scalar_one()) > 0,
    )


async def replace_status(
    conn: AsyncConnection,
    contract_name: str,
    check_type: ViolationType,
    status: SLAStatus | None,
    written: datetime,
) -> bool:
    """Store ``status`` as the SLA status of (``contract_name``, ``check_type``); None: none.

    Whether there was one before.
    """
    s = table_of(ContractSLAStatus)
    done = await conn.execute(
        delete(s).where(s.c.contract_name == contract_name, s.c.check_type == check_type.value)
    )
    if status is not None:
        await conn.execute(s.insert(), [_status_row(status, as_utc(written))])
    return bool(done.rowcount)


async def rebuild_aggregates(conn: AsyncConnection, removal: HistoryRemoval) -> AggregateRebuild:
    """Roll up again, from the remaining raw rows, the aggregated days ``removal`` touched."""
    through = await last_aggregated_day(conn)
    keys = sorted(k for k in removal.days if through is not None and k[1] <= through)
    if not keys:
        return AggregateRebuild()
    name = removal.selection.contract_name
    fresh = {
        (row.check_type, row.date): row
        for day in sorted({day for _, day in keys})
        for row in await daily_rows(conn, day, day, ContractFilter(name))
        if row.contract_name == name  # a name with glob characters matches only itself
    }
    a = table_of(ContractDailyAggregate)
    for kind, day in keys:
        await conn.execute(
            delete(a).where(a.c.contract_name == name, a.c.check_type == kind, a.c.date == day)
        )
    rebuilt = tuple(k for k in keys if k in fresh)
    if rebuilt:
        await conn.execute(a.insert(), [fresh[k].as_row() for k in rebuilt])
    return AggregateRebuild(rebuilt=rebuilt, removed=tuple(k for k in keys if k not in fresh))


def _results_in(selection: HistorySelection) -> list[ColumnElement[bool]]:
    r = table_of(ContractCheckResult)
    return [
        r.c.contract_name == selection.contract_name,
        r.c.check_type.in_(selection.kinds),
        r.c.checked_at >= selection.since,
        r.c.checked_at < selection.until,
    ]


def _violations_in(selection: HistorySelection) -> ColumnElement[bool]:
    """The violations of the selected results, and those without a result in the range."""
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    of_results = v.c.check_result_id.in_(select(r.c.id).where(*_results_in(selection)))
    unattached = and_(
        v.c.check_result_id.is_(None),
        v.c.violation_type.in_(selection.kinds),
        v.c.detected_at >= selection.since,
        v.c.detected_at < selection.until,
    )
    return and_(v.c.contract_name == selection.contract_name, or_(of_results, unattached))


class _Group(NamedTuple):
    """Rows of one (check type, outcome, UTC day), and the first and last of their times."""

    kind: str
    outcome: str
    day: date
    first: datetime
    last: datetime
    rows: int


async def _grouped(
    conn: AsyncConnection,
    kind: ColumnElement[str],
    outcome: ColumnElement[str],
    at: ColumnElement[datetime],
    where: list[ColumnElement[bool]],
) -> list[_Group]:
    """The rows ``where`` selects, grouped by check type, outcome and UTC day of ``at``."""
    day = utc_date(at).label("day")
    stmt = (
        select(kind, outcome, day, func.min(at), func.max(at), func.count())
        .where(*where)
        .group_by(kind, outcome, day)
    )
    return [
        _Group(str(k), str(o), as_date(d), as_utc(first), as_utc(last), int(n))
        for k, o, d, first, last, n in (await conn.execute(stmt)).all()
    ]


def _counts(groups: list[_Group]) -> tuple[Count, ...]:
    """The groups' rows summed over their days, by check type (in the usual order), outcome."""
    order = {k.value: i for i, k in enumerate(ViolationType)}
    summed: dict[tuple[str, str], int] = {}
    for group in groups:
        key = (group.kind, group.outcome)
        summed[key] = summed.get(key, 0) + group.rows
    ordered = sorted(summed.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1]))
    return tuple(Count(kind, outcome, rows) for (kind, outcome), rows in ordered)


async def _kept_aggregate_days(
    conn: AsyncConnection, selection: HistorySelection
) -> tuple[date, ...]:
    """Days of the range with aggregates of the selected types but no raw rows of them left:
    retention purged those, so they cannot be corrected."""
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    a = table_of(ContractDailyAggregate)
    first = selection.since.date()
    last = (selection.until - timedelta(microseconds=1)).date()
    start, end = day_start(first), day_start(last + timedelta(days=1))
    name, kinds = selection.contract_name, selection.kinds
    aggregated = select(a.c.check_type, a.c.date).where(
        a.c.contract_name == name, a.c.check_type.in_(kinds), a.c.date >= first, a.c.date <= last
    )
    raw = set()
    for kind, at, table in (
        (r.c.check_type, r.c.checked_at, r),
        (v.c.violation_type, v.c.detected_at, v),
    ):
        day = utc_date(at)
        stmt = (
            select(kind, day)
            .where(table.c.contract_name == name, kind.in_(kinds), at >= start, at < end)
            .distinct()
        )
        raw |= {(str(k), as_date(d)) for k, d in (await conn.execute(stmt)).all()}
    keys = {(str(k), as_date(d)) for k, d in (await conn.execute(aggregated)).all()}
    return tuple(sorted({day for kind, day in keys - raw}))


async def _known(conn: AsyncConnection, contract_name: str) -> bool:
    """Whether anything at all is recorded of ``contract_name``."""
    for model in (
        ContractCheckResult,
        ContractViolation,
        ContractSLAStatus,
        ContractDailyAggregate,
        RegisteredContractRow,
    ):
        table = table_of(model)
        stmt = select(table.c.contract_name).where(table.c.contract_name == contract_name).limit(1)
        if (await conn.execute(stmt)).first() is not None:
            return True
    return False
