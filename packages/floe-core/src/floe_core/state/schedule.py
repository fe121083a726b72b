"""The long-running monitor's shared schedule: what is due, who holds it, who is running.

One row per (registered contract, check type it applies to) in ``monitor_schedule``. A
replica claims due rows in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
replicas never claim the same row), which sets a lease and moves the row's due time to its
next slot; finishing releases the lease. A replica that dies holds its rows until their
leases expire; then any replica claims them. Due times sit on fixed slots per row (a phase
derived from its name), so a fleet's checks spread evenly over each interval and every
replica computes the same slots.

SQLite is one monitor per database: ``join(exclusive=True)`` refuses to start beside a live
one and names it.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core._time import as_utc
from floe_core.errors import StateError
from floe_core.state.engine import SQLITE_BEGIN
from floe_core.state.models import (
    MonitorJob,
    MonitorReplica,
    MonitorSchedule,
    RegisteredContractRow,
    table_of,
)

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class MonitorConflictError(StateError):
    """Another monitor already runs on this SQLite state database."""


@dataclass(frozen=True)
class DueCheck:
    """One claimed run: a check type of a contract, due at ``due_at``, leased to this replica."""

    contract_name: str
    check_type: str
    due_at: datetime
    interval_seconds: float
    next_due_at: datetime  # where the claim moved the row's due time


@dataclass(frozen=True)
class Finished:
    """A claimed run that is over: its status, and when it ended."""

    due: DueCheck
    status: str
    finished_at: datetime


@dataclass(frozen=True)
class Registration:
    """What a running monitor polls of a registered contract: enough to see a change."""

    contract_name: str
    updated_at: datetime | None
    active: bool


def phase(contract_name: str, check_type: str) -> float:
    """A stable fraction in [0, 1) per row: where in each interval its slots fall."""
    digest = hashlib.blake2b(f"{contract_name}\0{check_type}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def next_slot(after: datetime, interval_seconds: float, fraction: float) -> datetime:
    """The first slot of a row strictly after ``after``: ``EPOCH + (k + fraction) * interval``."""
    elapsed = (as_utc(after) - _EPOCH).total_seconds()
    k = math.floor(elapsed / interval_seconds - fraction) + 1
    slot = _EPOCH + timedelta(seconds=(k + fraction) * interval_seconds)
    while slot <= after:  # float rounding at a slot's edge
        slot += timedelta(seconds=interval_seconds)
    return slot


def following(due: datetime, now: datetime, interval_seconds: float, fraction: float) -> datetime:
    """The due time after a run of the slot ``due`` started at ``now``: the next slot, or the
    one after it when a late run (a monitor that was down, a backlog) would leave less than
    half an interval before it. A late run stands for the slot it missed; it does not make
    the next one come at once."""
    slot = next_slot(max(due, now), interval_seconds, fraction)
    if (slot - now).total_seconds() < interval_seconds / 2:
        slot += timedelta(seconds=interval_seconds)
    return slot


class ScheduleStore:
    """The schedule tables, as one replica (``replica_id``) sees and changes them."""

    def __init__(self, engine: AsyncEngine, replica_id: str) -> None:
        self.engine = engine
        self.replica_id = replica_id
        self.postgres = engine.dialect.name == "postgresql"

    # Replicas ---------------------------------------------------------------------------

    async def join(self, now: datetime, *, stale_after: timedelta) -> None:
        """Record this replica; on SQLite refuse if another one is alive (its heartbeat newer
        than ``stale_after``). Replicas gone quiet for longer are forgotten."""
        table = table_of(MonitorReplica)
        async with self._writing() as conn:
            await conn.execute(delete(table).where(table.c.heartbeat_at < now - stale_after))
            if not self.postgres:
                holder = (await conn.execute(select(table))).mappings().first()
                if holder is not None and holder["replica_id"] != self.replica_id:
                    raise MonitorConflictError(
                        "another floe monitor already runs on this SQLite state database: "
                        f"replica {holder['replica_id']} (host {holder['host']}, pid "
                        f"{holder['pid']}, running since {_when(holder['started_at'])}, last "
                        f"heartbeat {_when(holder['heartbeat_at'])}). SQLite allows one monitor "
                        "per database: stop that one, or use a PostgreSQL state database "
                        "(FLOE_STATE_URL) to run replicas"
                    )
            await conn.execute(table.insert().values(self._replica_row(now)))

    def _replica_row(self, now: datetime) -> dict[str, Any]:
        return {
            "replica_id": self.replica_id,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": now,
            "heartbeat_at": now,
        }

    async def heartbeat(self, now: datetime) -> None:
        """Say this replica is alive (and take its row back if another forgot it)."""
        table = table_of(MonitorReplica)
        async with self._writing() as conn:
            done = await conn.execute(
                update(table).where(table.c.replica_id == self.replica_id).values(heartbeat_at=now)
            )
            if not done.rowcount:
                await conn.execute(table.insert().values(self._replica_row(now)))

    async def leave(self) -> None:
        """Forget this replica and release every lease it holds (a clean stop)."""
        replicas, schedule = table_of(MonitorReplica), table_of(MonitorSchedule)
        async with self._writing() as conn:
            await conn.execute(
                update(schedule)
                .where(schedule.c.lease_owner == self.replica_id)
                .values(lease_owner=None, lease_expires_at=None)
            )
            await conn.execute(delete(replicas).where(replicas.c.replica_id == self.replica_id))

    async def replicas(self) -> int:
        """How many replicas are recorded (this one included)."""
        table = table_of(MonitorReplica)
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    # The registered set -----------------------------------------------------------------

    async def registrations(self) -> list[Registration]:
        """Every registered contract's name, last registration time and whether it is
        active: cheap enough to poll every few seconds at 10,000 contracts."""
        table = table_of(RegisteredContractRow)
        stmt = select(table.c.contract_name, table.c.updated_at, table.c.active)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Registration(name, as_utc(at) if at is not None else None, active is not False)
            for name, at, active in rows
        ]

    async def plan(
        self, wanted: Mapping[str, Mapping[str, float]], now: datetime, first_within: float | None
    ) -> None:
        """Make the rows of the contracts in ``wanted`` (name -> check type -> interval s)
        exactly those: new rows get their first slot (within ``first_within`` seconds when
        given), rows whose interval changed move to their slots of the new interval (spread
        as ever, so a changed manifest does not make every check due at once), types no
        longer wanted go."""
        if not wanted:
            return
        table = table_of(MonitorSchedule)
        names = list(wanted)
        async with self._writing() as conn:
            rows = (
                await conn.execute(
                    select(table.c.contract_name, table.c.check_type, table.c.interval_seconds)
                    .where(table.c.contract_name.in_(names))
                    .with_for_update()
                )
            ).all()
            have = {(n, t): i for n, t, i in rows}
            gone = [(n, t) for n, t in have if t not in wanted.get(n, {})]
            for name, check_type in gone:
                await conn.execute(
                    delete(table).where(
                        table.c.contract_name == name, table.c.check_type == check_type
                    )
                )
            new: list[dict[str, Any]] = []
            moved: list[dict[str, Any]] = []
            for name, types in wanted.items():
                for check_type, interval in types.items():
                    old = have.get((name, check_type))
                    if old is not None and math.isclose(old, interval):
                        continue
                    if old is None:  # a new row: its first run comes soon
                        due = self.first_due(name, check_type, interval, now, first_within)
                    else:  # a changed interval: onto its slots, never a stampede of them
                        due = next_slot(now, interval, phase(name, check_type))
                    row = {"n": name, "t": check_type, "i": interval, "d": due}
                    (new if old is None else moved).append(row)
            if new:
                await conn.execute(
                    self._insert_ignoring(table),
                    [
                        {
                            "contract_name": r["n"],
                            "check_type": r["t"],
                            "interval_seconds": r["i"],
                            "next_due_at": r["d"],
                        }
                        for r in new
                    ],
                )
            if moved:
                await conn.execute(
                    update(table)
                    .where(
                        table.c.contract_name == bindparam("n"),
                        table.c.check_type == bindparam("t"),
                    )
                    .values(interval_seconds=bindparam("i"), next_due_at=bindparam("d")),
                    moved,
                )

    @staticmethod
    def first_due(
        name: str, check_type: str, interval: float, now: datetime, first_within: float | None
    ) -> datetime:
        """A new row's first due time: its next slot, or sooner, spread over ``first_within``."""
        fraction = phase(name, check_type)
        slot = next_slot(now, interval, fraction)
        if first_within is not None and (slot - now).total_seconds() > first_within:
            return now + timedelta(seconds=fraction * first_within)
        return slot

    async def drop(self, names: Iterable[str]) -> None:
        """Remove every row of contracts no longer registered (or inactive)."""
        names = list(names)
        if not names:
            return
        table = table_of(MonitorSchedule)
        async with self._writing() as conn:
            await conn.execute(delete(table).where(table.c.contract_name.in_(names)))

    async def scheduled_names(self) -> set[str]:
        """The contracts that have rows."""
        table = table_of(MonitorSchedule)
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(table.c.contract_name).distinct())
            return {name for (name,) in rows}

    # Claiming and finishing -------------------------------------------------------------

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[DueCheck]:
        """Up to ``limit`` due rows no live lease holds, earliest first, leased to this
        replica until ``now + lease``; each row's due time moves to its next slot."""
        if limit <= 0:
            return []
        table = table_of(MonitorSchedule)
        stmt = (
            select(
                table.c.contract_name,
                table.c.check_type,
                table.c.next_due_at,
                table.c.interval_seconds,
            )
            .where(
                table.c.next_due_at <= now,
                or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now),
            )
            .order_by(table.c.next_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._writing() as conn:
            rows = (await conn.execute(stmt)).all()
            claimed = [
                DueCheck(
                    name,
                    check_type,
                    as_utc(due),
                    interval,
                    following(as_utc(due), now, interval, phase(name, check_type)),
                )
                for name, check_type, due, interval in rows
            ]
            if claimed:
                await conn.execute(
                    update(table)
                    .where(
                        table.c.contract_name == bindparam("n"),
                        table.c.check_type == bindparam("t"),
                    )
                    .values(
                        next_due_at=bindparam("d"),
                        lease_owner=self.replica_id,
                        lease_expires_at=now + lease,
                        last_started_at=now,
                    ),
                    [
                        {"n": c.contract_name, "t": c.check_type, "d": c.next_due_at}
                        for c in claimed
                    ],
                )
        return claimed

    async def finish(self, finished: Sequence[Finished]) -> None:
        """Release the leases of ``finished`` runs; a run that outlasted its next due time
        moves that row to the first slot after it ended (the missed runs are skipped)."""
        if not finished:
            return
        table = table_of(MonitorSchedule)
        params = [
            {
                "n": f.due.contract_name,
                "t": f.due.check_type,
                "s": f.status,
                "f": f.finished_at,
                "d": max(
                    f.due.next_due_at,
                    next_slot(
                        f.finished_at,
                        f.due.interval_seconds,
                        phase(f.due.contract_name, f.due.check_type),
                    )
                    if overran(f)
                    else f.due.next_due_at,
                ),
            }
            for f in finished
        ]
        async with self._writing() as conn:
            await conn.execute(
                update(table)
                .where(
                    and_(
                        table.c.contract_name == bindparam("n"),
                        table.c.check_type == bindparam("t"),
                        table.c.lease_owner == self.replica_id,
                    )
                )
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    last_finished_at=bindparam("f"),
                    last_status=bindparam("s"),
                    next_due_at=bindparam("d"),
                ),
                params,
            )

    async def mark_due(
        self, names: Iterable[str], check_types: Iterable[str], now: datetime
    ) -> int:
        """Make the rows of ``check_types`` of ``names`` due now (a new snapshot landed)."""
        names, types = list(names), list(check_types)
        if not names or not types:
            return 0
        table = table_of(MonitorSchedule)
        async with self._writing() as conn:
            done = await conn.execute(
                update(table)
                .where(
                    table.c.contract_name.in_(names),
                    table.c.check_type.in_(types),
                    table.c.next_due_at > now,
                )
                .values(next_due_at=now)
            )
        return int(done.rowcount or 0)

    async def counts(self, now: datetime) -> dict[str, int]:
        """Rows in all, due now (unleased), running anywhere, and leased to this replica."""
        table = table_of(MonitorSchedule)
        live = and_(table.c.lease_expires_at.is_not(None), table.c.lease_expires_at >= now)
        stmt = select(
            func.count(),
            func.count().filter(and_(table.c.next_due_at <= now, ~live)),
            func.count().filter(live),
            func.count().filter(and_(live, table.c.lease_owner == self.replica_id)),
        ).select_from(table)
        async with self.engine.connect() as conn:
            total, due, running, mine = (await conn.execute(stmt)).one()
        return {"scheduled": total, "due": due, "leased": running, "leased_here": mine}

    # Daily jobs -------------------------------------------------------------------------

    async def claim_daily(self, job: str, today: date, now: datetime) -> bool:
        """Whether this replica runs ``job`` today: the first replica to ask each day does."""
        table = table_of(MonitorJob)
        async with self._writing() as conn:
            await conn.execute(self._insert_ignoring(table), [{"job": job}])
            done = await conn.execute(
                update(table)
                .where(
                    table.c.job == job,
                    or_(table.c.last_run_on.is_(None), table.c.last_run_on < today),
                )
                .values(last_run_on=today, claimed_by=self.replica_id, claimed_at=now)
            )
        return bool(done.rowcount)

    # ------------------------------------------------------------------------------------

    def _writing(self) -> _Writing:
        return _Writing(self.engine)

    def _insert_ignoring(self, table: Table) -> Any:
        """An INSERT that leaves rows already there alone (another replica wrote them)."""
        if self.postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()


def _when(moment: datetime) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S} UTC"


def overran(finished: Finished) -> bool:
    """Whether the run was still going when the row came due again (the next run skipped)."""
    return finished.finished_at >= finished.due.next_due_at


class _Writing:
    """One write transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        conn = await self.engine.connect()
        try:
            if conn.dialect.name == "sqlite":
                await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            await conn.begin()
        except BaseException:  # "database is locked": the connection goes back, not astray
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def __aexit__(self, kind: object, exc: object, tb: object) -> None:
        assert self._conn is not None
        try:
            if kind is None:
                await self._conn.commit()
            else:
                await self._conn.rollback()
        finally:
            await self._conn.close()
