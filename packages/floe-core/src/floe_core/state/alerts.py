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
    """The locked transaction of one contract: read everything at once, decide, then write
    what was decided in a few batched statements when the turn ends."""

    def __init__(self, conn: AsyncConnection, contract: str) -> None:
        self.conn = conn
        self.contract = contract
        self._deliveries: list[dict[str, Any]] = []
        self._states: dict[tuple[str, str], ChannelState] = {}
        self._alerted: list[str] = []
        self._alerted_at: tuple[datetime, float] | None = None

    async def states(self) -> dict[str, dict[str, ChannelState]]:
        """By channel, by violation type: what each channel was last sent about the contract."""
        table = table_of(AlertChannelState)
        rows = await self.conn.execute(select(table).where(table.c.contract_name == self.contract))
        found: dict[str, dict[str, ChannelState]] = {}
        for row in rows:
            found.setdefault(row.channel_name, {})[row.violation_type] = ChannelState(
                row.violation_type,
                bool(row.firing),
                row.severity,
                list(row.elements or []),
                as_utc(row.last_sent_at) if row.last_sent_at else None,
            )
        return found

    async def silences(self, now: datetime) -> list[Silence]:
        """The silences in force at ``now``."""
        return await _silences(self.conn, now)

    async def sent_since(self, since: datetime) -> dict[str, int]:
        """By channel: violation notifications of the contract claimed or sent since."""
        table = table_of(AlertDelivery)
        rows = await self.conn.execute(
            select(table.c.channel_name, func.count())
            .where(
                table.c.contract_name == self.contract,
                table.c.kind == "violation",
                table.c.status.in_(_COUNTED),
                table.c.created_at >= since,
            )
            .group_by(table.c.channel_name)
        )
        return {channel: int(count) for channel, count in rows}

    def note(self, channel: str, types: list[str], status: str, reason: str, now: datetime) -> None:
        """Record a violation notification that is not sent (suppressed), and why."""
        self._delivery(channel, "violation", types, status, reason, now)

    def claim(self, channel: str, kind: str, types: list[str], now: datetime) -> uuid.UUID:
        """Record a notification as being sent; its id, for ``AlertLedger.settle``."""
        return self._delivery(channel, kind, types, "sending", None, now)

    def save(self, channel: str, states: Iterable[ChannelState]) -> None:
        """Write these states of ``channel`` when the turn ends."""
        for state in states:
            self._states[channel, state.violation_type] = state

    def alerted(self, types: Iterable[str], now: datetime, window: float) -> None:
        """Keep the design's ``alert_dedup_state``: the contract's types were alerted now."""
        self._alerted += [t for t in types if t not in self._alerted]
        self._alerted_at = (now, window)

    def _delivery(
        self,
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
                "contract_name": self.contract,
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
                    "contract_name": self.contract,
                    "channel_name": channel,
                    "violation_type": state.violation_type,
                    "firing": state.firing,
                    "severity": state.severity,
                    "elements": state.elements,
                    "last_sent_at": state.last_sent_at,
                }
                for (channel, _), state in self._states.items()
            ]
            stmt = _insert(self.conn, table).values(rows)
            keys = ("contract_name", "channel_name", "violation_type")
            await self.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
                )
            )
        if self._alerted and self._alerted_at is not None:
            await self._upsert_dedup_state(*self._alerted_at)

    async def _upsert_dedup_state(self, now: datetime, window: float) -> None:
        table = table_of(AlertDedupState)
        cutoff = now - timedelta(seconds=window)
        rows = [
            {
                "contract_name": self.contract,
                "violation_type": kind,
                "last_alerted_at": now,
                "alert_count_window": 1,
                "window_start": now,
            }
            for kind in self._alerted
        ]
        stmt = _insert(self.conn, table).values(rows)
        expired = table.c.window_start < cutoff
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
    async def turn(self, contract: str) -> AsyncIterator[LedgerTurn]:
        """A transaction holding the contract's alert lock; its writes flushed and committed
        when the block ends without an exception."""
        async with self.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if not postgres:
                await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            async with conn.begin():
                if postgres:
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"floe-alert\x1f{contract}"},
                    )
                turn = LedgerTurn(conn, contract)
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
