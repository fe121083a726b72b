"""Retention: roll complete days up into ``contract_daily_aggregates``, then purge expired raw rows.

``apply_retention`` works one UTC day at a time, oldest first, each day in its own
transaction: the day's aggregates are written (or rewritten from the raw rows) and, if the
day is older than ``retention_days``, its raw check results and violations are deleted in the
same transaction. Interrupted, it leaves every day either untouched or done; run again, it
finds nothing new to do, so it is idempotent.

Which days are rolled up: every complete day (before today, UTC) that has raw rows and is not
yet aggregated, and the last two aggregated days again, which catches results written late
(clock skew, a run finishing after midnight). A day whose raw rows are already gone keeps the
aggregates it has. Results written more than a day late into a day already rolled up are not
counted in its aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core._time import as_utc
from floe_core.errors import InputError
from floe_core.state.daily import (
    CHECK_TYPES,
    SEVERITIES,
    daily_rows,
    day_start,
    last_aggregated_day,
)
from floe_core.state.models import (
    ContractCheckResult,
    ContractDailyAggregate,
    ContractViolation,
    table_of,
)

#: Days before the last aggregated one that are rolled up again, for late results.
RECHECKED_DAYS = 1


@dataclass
class RetentionResult:
    """What one retention pass did."""

    retention_days: int
    cutoff: date  # raw rows of days before this were purged
    rolled_up_days: list[date] = field(default_factory=list)
    aggregate_rows: int = 0
    purged_days: list[date] = field(default_factory=list)
    deleted_results: int = 0
    deleted_violations: int = 0
    dry_run: bool = False


async def apply_retention(
    engine: AsyncEngine,
    retention_days: int,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionResult:
    """Roll up the complete days and purge the raw rows older than ``retention_days``.

    With ``dry_run`` nothing is written; the result says what would have been done (the rows
    to delete counted, the aggregates computed but not stored).
    """
    if retention_days < 1:
        raise InputError(f"retention_days must be at least 1, got {retention_days}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    cutoff = today - timedelta(days=retention_days)
    result = RetentionResult(retention_days=retention_days, cutoff=cutoff, dry_run=dry_run)
    async with engine.connect() as conn:
        first = await _first_raw_day(conn)
        last_aggregated = await last_aggregated_day(conn)
        await conn.rollback()
    if first is None:
        return result
    redo_from = None if last_aggregated is None else last_aggregated - timedelta(RECHECKED_DAYS)
    day = first
    while day < today:
        roll_up = redo_from is None or day >= redo_from
        purge = day < cutoff
        if roll_up or purge:
            await _one_day(engine, day, roll_up=roll_up, purge=purge, result=result)
        day += timedelta(days=1)
    return result


async def _one_day(
    engine: AsyncEngine, day: date, *, roll_up: bool, purge: bool, result: RetentionResult
) -> None:
    async with engine.connect() as conn, conn.begin() as transaction:
        if roll_up:
            rows = await daily_rows(conn, day, day)
            if rows and not result.dry_run:
                await _upsert(conn, [row.as_row() for row in rows])
            if rows:
                result.rolled_up_days.append(day)
                result.aggregate_rows += len(rows)
        if purge:
            results, violations = await _purge_day(conn, day, dry_run=result.dry_run)
            if results or violations:
                result.purged_days.append(day)
                result.deleted_results += results
                result.deleted_violations += violations
        if result.dry_run:
            await transaction.rollback()


async def _purge_day(conn: AsyncConnection, day: date, *, dry_run: bool) -> tuple[int, int]:
    """Delete the day's raw rows: first the violations of its results, and any other
    violation detected that day, then the results (the violations reference them).

    Every statement is a range over an index (``check_type``/``severity`` then the time),
    and the violations are joined to the results rather than tested against a list of
    their ids, which PostgreSQL would re-scan for every violation once it outgrows memory.
    """
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    start, end = day_start(day), day_start(day + timedelta(days=1))
    results_of_day = (
        r.c.check_type.in_(CHECK_TYPES),
        r.c.checked_at >= start,
        r.c.checked_at < end,
    )
    detected_that_day = (
        v.c.severity.in_(SEVERITIES),
        v.c.detected_at >= start,
        v.c.detected_at < end,
    )
    of_results = exists().where(r.c.id == v.c.check_result_id, *results_of_day)
    if dry_run:
        counted = (
            select(func.count()).select_from(v).where(or_(of_results, and_(*detected_that_day)))
        )
        violations = (await conn.execute(counted)).scalar_one()
        results = (await conn.execute(select(func.count()).where(*results_of_day))).scalar_one()
        return int(results), int(violations)
    if conn.dialect.name == "postgresql":  # DELETE ... USING: a join
        by_result = delete(v).where(v.c.check_result_id == r.c.id, *results_of_day)
    else:
        by_result = delete(v).where(of_results)
    violations = (await conn.execute(by_result)).rowcount
    violations += (await conn.execute(delete(v).where(*detected_that_day))).rowcount
    results = (await conn.execute(delete(r).where(*results_of_day))).rowcount
    return int(results), int(violations)


async def _first_raw_day(conn: AsyncConnection) -> date | None:
    """The day of the oldest raw check result or violation, through the indexes."""
    r, v = table_of(ContractCheckResult), table_of(ContractViolation)
    oldest: list[datetime] = []
    for kind in CHECK_TYPES:
        stmt = select(func.min(r.c.checked_at)).where(r.c.check_type == kind)
        if (found := (await conn.execute(stmt)).scalar_one()) is not None:
            oldest.append(as_utc(found))
    for severity in SEVERITIES:
        stmt = select(func.min(v.c.detected_at)).where(v.c.severity == severity)
        if (found := (await conn.execute(stmt)).scalar_one()) is not None:
            oldest.append(as_utc(found))
    return min(oldest).date() if oldest else None


async def _upsert(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    table = table_of(ContractDailyAggregate)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    keys = ("contract_name", "check_type", "date")
    for chunk in _chunks(rows, 500):
        stmt = insert(table).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: stmt.excluded[c] for c in chunk[0] if c not in keys},
        )
        await conn.execute(stmt)


def _chunks(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]
