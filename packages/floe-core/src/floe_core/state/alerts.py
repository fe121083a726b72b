"""The alert ledger: what each channel was sent, every delivery outcome, and silences.

Deciding what a contract run's notifications are and recording them happen in one
transaction per run that holds the contract's lock: ``BEGIN IMMEDIATE`` on SQLite, a
transaction-level advisory lock on PostgreSQL. Two routers (two processes, two replicas)
deciding about the same contract therefore take turns, and the second sees what the first
claimed: a notification is never sent twice. A turn reads all it needs in two or three
queries and writes what it decided in at most three statements.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core._time import as_utc
from floe_core.state.engine import SQLITE_BEGIN
from floe_core.state.models import (
    AlertChannelState,
    AlertDedupState,
    AlertDelivery,
    AlertSilence,
    table_of,
)

#: Delivery statuses that count against a rate limit: claimed (being sent) and sent.
_COUNTED = ("sending", "sent")


@dataclass
class ChannelState:
    """What one channel was last sent about one violation type of a contract."""

    violation_type: str
    firing: bool = False
    severity: str | None = None
    elements: list[str] = field(default_factory=list)
    last_sent_at: datetime | None = None


@dataclass(frozen=True)
class Silence:
    """Violations of contracts matching ``contract`` (a glob), of ``violation_type`` or any."""

    id: str
    contract: str
    violation_type: str | None
    starts_at: datetime
    ends_at: datetime
    comment: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``floe sla silence list`` prints."""
        return {
            "id": self.id,
            "contract": self.contract,
            "type": self.violation_type,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "comment": self.comment,
        }


class LedgerTurn:
    """The locked transaction of one or more contracts: read everything at once, decide, then
    write what was decided in a few batched statements when the turn ends."""

    def __init__(self, conn: AsyncConnection, contracts: Sequence[str]) -> None:
        self.conn = conn
        self.contracts = sorted(set(contracts))
        self._deliveries: list[dict[str, Any]] = []
        self._states: dict[tuple[str, str, str], ChannelState] = {}
        self._alerted: dict[tuple[str, str], tuple[datetime, float]] = {}

    async def states(self) -> dict[tuple[str, str], dict[str, ChannelState]]:
        """By (contract, channel), by violation type: what each channel was last sent."""
        table = table_of(AlertChannelState)
        rows = await self.conn.execute(
            select(table).where(table.c.contract_name.in_(self.contracts))
        )
        found: dict[tuple[str, str], dict[str, ChannelState]] = {}
        for row in rows:
            found.setdefault((row.contract_name, row.channel_name), {})[row.violation_type] = (
                ChannelState(
                    row.violation_type,
                    bool(row.firing),
                    row.severity,
                    list(row.elements or []),
                    as_utc(row.last_sent_at) if row.last_sent_at else None,
                )
            )
        return found

    async def silences(self, now: datetime) -> list[Silence]:
        """The silences in force at ``now``."""
        return await _silences(self.conn, now)

    async def sent_since(self, since: datetime) -> dict[tuple[str, str], int]:
        """By (contract, channel): violation notifications claimed or sent since ``since``."""
        table = table_of(AlertDelivery)
        rows = await self.conn.execute(
            select(table.c.contract_name, table.c.channel_name, func.count())
            .where(
                table.c.contract_name.in_(self.contracts),
                table.c.kind == "violation",
                table.c.status.in_(_COUNTED),
                table.c.created_at >= since,
            )
            .group_by(table.c.contract_name, table.c.channel_name)
        )
        return {(contract, channel): int(count) for contract, channel, count in rows}

    def note(
        self, contract: str, channel: str, types: list[str], reason: str, now: datetime
    ) -> None:
        """Record a violation notification that is not sent (suppressed), and why."""
        self._delivery(contract, channel, "violation", types, "suppressed", reason, now)

    def claim(
        self, contract: str, channel: str, kind: str, types: list[str], now: datetime
    ) -> uuid.UUID:
        """Record a notification as being sent; its id, for ``AlertLedger.settle``."""
        return self._delivery(contract, channel, kind, types, "sending", None, now)

    def save(self, contract: str, channel: str, states: Iterable[ChannelState]) -> None:
        """Write these states of ``channel`` about ``contract`` when the turn ends."""
        for state in states:
            self._states[contract, channel, state.violation_type] = state

    def alerted(self, contract: str, types: Iterable[str], now: datetime, window: float) -> None:
        """Keep the design's ``alert_dedup_state``: the contract's types were alerted now."""
        for kind in types:
            self._alerted[contract, kind] = (now, window)

    def _delivery(
        self,
        contract: str,
        channel: str,
        kind: str,
        types: list[str],
        status: str,
        reason: str | None,
        now: datetime,
    ) -> uuid.UUID:
        delivery_id = uuid.uuid4()
        self._deliveries.append(
            {
                "id": delivery_id,
                "contract_name": contract,
                "channel_name": channel,
                "kind": kind,
                "violation_types": types,
                "status": status,
                "reason": reason,
                "created_at": now,
            }
        )
        return delivery_id

    async def flush(self) -> None:
        """Write what the turn decided: one statement per table at most."""
        if self._deliveries:
            await self.conn.execute(table_of(AlertDelivery).insert(), self._deliveries)
        if self._states:
            table = table_of(AlertChannelState)
            rows = [
                {
                    "contract_name": contract,
                    "channel_name": channel,
                    "violation_type": state.violation_type,
                    "firing": state.firing,
                    "severity": state.severity,
                    "elements": state.elements,
                    "last_sent_at": state.last_sent_at,
                }
                for (contract, channel, _), state in self._states.items()
            ]
            stmt = _insert(self.conn, table).values(rows)
            keys = ("contract_name", "channel_name", "violation_type")
            await self.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
                )
            )
        if self._alerted:
            await self._upsert_dedup_state()

    async def _upsert_dedup_state(self) -> None:
        table = table_of(AlertDedupState)
        rows = [
            {
                "contract_name": contract,
                "violation_type": kind,
                "last_alerted_at": now,
                "alert_count_window": 1,
                "window_start": now,
            }
            for (contract, kind), (now, _) in self._alerted.items()
        ]
        # One window for the whole turn: the longest asked for (runs share one config).
        now, window = max(self._alerted.values(), key=lambda item: item[1])
        expired = table.c.window_start < now - timedelta(seconds=window)
        stmt = _insert(self.conn, table).values(rows)
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["contract_name", "violation_type"],
                set_={
                    "last_alerted_at": stmt.excluded.last_alerted_at,
                    "alert_count_window": case(
                        (expired, 1), else_=func.coalesce(table.c.alert_count_window, 0) + 1
                    ),
                    "window_start": case(
                        (expired, stmt.excluded.window_start), else_=table.c.window_start
                    ),
                },
            )
        )


class AlertLedger:
    """The alert state in the monitoring-state database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def turn(self, contracts: Sequence[str]) -> AsyncIterator[LedgerTurn]:
        """A transaction holding the alert locks of ``contracts``; its writes flushed and
        committed when the block ends without an exception.

        On PostgreSQL the locks are taken in one statement, in one order for every process,
        so two turns over overlapping contracts wait for each other and never deadlock.
        """
        async with self.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if not postgres:
                await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            async with conn.begin():
                turn = LedgerTurn(conn, contracts)
                if postgres:
                    await conn.execute(
                        text(
                            "SELECT pg_advisory_xact_lock(key) FROM (SELECT DISTINCT "
                            "hashtext('floe-alert' || name) AS key FROM unnest(CAST(:names AS "
                            "text[])) AS name ORDER BY key) AS keys"
                        ),
                        {"names": turn.contracts},
                    )
                yield turn
                await turn.flush()

    async def settle(self, outcomes: Sequence[tuple[uuid.UUID, str, str | None]]) -> None:
        """Record how claimed notifications ended: ``sent`` or ``failed`` and why."""
        if not outcomes:
            return
        table = table_of(AlertDelivery)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("delivery_id"))
            .values(status=bindparam("new_status"), reason=bindparam("new_reason"))
        )
        rows = [{"delivery_id": i, "new_status": s, "new_reason": r} for i, s, r in outcomes]
        async with self.engine.begin() as conn:
            await conn.execute(stmt, rows)

    async def forget(self, contract: str, channel: str, violation_types: Iterable[str]) -> None:
        """After a failed delivery: the next run may send these types again at once."""
        table = table_of(AlertChannelState)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(table)
                .where(
                    table.c.contract_name == contract,
                    table.c.channel_name == channel,
                    table.c.violation_type.in_(list(violation_types)),
                )
                .values(last_sent_at=None)
            )

    # Silences ---------------------------------------------------------------------------

    async def add_silence(
        self,
        contract: str,
        violation_type: str | None,
        starts_at: datetime,
        ends_at: datetime,
        comment: str,
    ) -> Silence:
        """Store a new silence; it has a short random id."""
        silence = Silence(
            secrets.token_hex(4), contract, violation_type, starts_at, ends_at, comment
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                table_of(AlertSilence)
                .insert()
                .values(
                    id=silence.id,
                    contract_pattern=contract,
                    violation_type=violation_type,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    comment=comment,
                )
            )
        return silence

    async def silences(self, active_at: datetime | None = None) -> list[Silence]:
        """Every silence, or those in force at ``active_at``; soonest ending first."""
        async with self.engine.connect() as conn:
            return await _silences(conn, active_at)

    async def expire_silence(self, silence_id: str, now: datetime) -> bool:
        """End a silence now; False when there is none with this id."""
        table = table_of(AlertSilence)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(table)
                .where(table.c.id == silence_id, table.c.ends_at > now)
                .values(ends_at=now)
            )
            if result.rowcount:
                return True
            found = await conn.execute(select(table.c.id).where(table.c.id == silence_id))
            return found.first() is not None


async def _silences(conn: AsyncConnection, active_at: datetime | None) -> list[Silence]:
    table = table_of(AlertSilence)
    query = select(table).order_by(table.c.ends_at, table.c.id)
    if active_at is not None:
        query = query.where(table.c.starts_at <= active_at, table.c.ends_at > active_at)
    rows = (await conn.execute(query)).all()
    return [
        Silence(
            row.id,
            row.contract_pattern,
            row.violation_type,
            as_utc(row.starts_at),
            as_utc(row.ends_at),
            row.comment,
        )
        for row in rows
    ]


def _insert(conn: AsyncConnection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
