"""The alert ledger: what each channel was sent, every delivery outcome, and silences.

Deciding whether a notification goes out and recording that it does happen in one
transaction per (contract, channel) that holds a lock on that pair: ``BEGIN IMMEDIATE`` on
SQLite, a transaction-level advisory lock on PostgreSQL. Two routers (two processes, two
replicas) deciding about the same pair therefore take turns, and the second sees what the
first claimed: a notification is never sent twice.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
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
    """The locked transaction of one (contract, channel): read, decide, claim."""

    def __init__(self, conn: AsyncConnection, contract: str, channel: str) -> None:
        self.conn = conn
        self.contract = contract
        self.channel = channel

    async def states(self) -> dict[str, ChannelState]:
        """The channel's state for each violation type of the contract it was ever sent."""
        table = table_of(AlertChannelState)
        rows = await self.conn.execute(
            select(table).where(
                table.c.contract_name == self.contract, table.c.channel_name == self.channel
            )
        )
        return {
            row.violation_type: ChannelState(
                row.violation_type,
                bool(row.firing),
                row.severity,
                list(row.elements or []),
                as_utc(row.last_sent_at) if row.last_sent_at else None,
            )
            for row in rows
        }

    async def sent_since(self, since: datetime) -> int:
        """Violation notifications claimed or sent to this channel for the contract since."""
        table = table_of(AlertDelivery)
        found = await self.conn.execute(
            select(func.count()).where(
                table.c.contract_name == self.contract,
                table.c.channel_name == self.channel,
                table.c.kind == "violation",
                table.c.status.in_(_COUNTED),
                table.c.created_at >= since,
            )
        )
        return int(found.scalar_one())

    async def save(self, states: Iterable[ChannelState]) -> None:
        """Write these states (insert or replace)."""
        table = table_of(AlertChannelState)
        for state in states:
            key = (
                (table.c.contract_name == self.contract)
                & (table.c.channel_name == self.channel)
                & (table.c.violation_type == state.violation_type)
            )
            await self.conn.execute(delete(table).where(key))
            await self.conn.execute(
                table.insert().values(
                    contract_name=self.contract,
                    channel_name=self.channel,
                    violation_type=state.violation_type,
                    firing=state.firing,
                    severity=state.severity,
                    elements=state.elements,
                    last_sent_at=state.last_sent_at,
                )
            )

    async def claim(self, kind: str, violation_types: list[str], now: datetime) -> int:
        """Record a notification as being sent; its id, for ``AlertLedger.settle``."""
        table = table_of(AlertDelivery)
        result = await self.conn.execute(
            table.insert()
            .values(
                contract_name=self.contract,
                channel_name=self.channel,
                kind=kind,
                violation_types=violation_types,
                status="sending",
                created_at=now,
            )
            .returning(table.c.id)
        )
        return int(result.scalar_one())

    async def note(
        self, kind: str, violation_types: list[str], status: str, reason: str, now: datetime
    ) -> None:
        """Record a notification that is not sent (suppressed), and why."""
        await self.conn.execute(
            table_of(AlertDelivery)
            .insert()
            .values(
                contract_name=self.contract,
                channel_name=self.channel,
                kind=kind,
                violation_types=violation_types,
                status=status,
                reason=reason,
                created_at=now,
            )
        )

    async def alerted(self, violation_types: Iterable[str], now: datetime, window: float) -> None:
        """Keep the design's ``alert_dedup_state``: the contract's types were alerted now."""
        table = table_of(AlertDedupState)
        for violation_type in violation_types:
            key = (table.c.contract_name == self.contract) & (
                table.c.violation_type == violation_type
            )
            row = (await self.conn.execute(select(table).where(key))).first()
            if row is None:
                await self.conn.execute(
                    table.insert().values(
                        contract_name=self.contract,
                        violation_type=violation_type,
                        last_alerted_at=now,
                        alert_count_window=1,
                        window_start=now,
                    )
                )
                continue
            fresh = (now - as_utc(row.window_start)).total_seconds() > window
            await self.conn.execute(
                update(table)
                .where(key)
                .values(
                    last_alerted_at=now,
                    alert_count_window=1 if fresh else (row.alert_count_window or 0) + 1,
                    window_start=now if fresh else row.window_start,
                )
            )


class AlertLedger:
    """The alert state in the monitoring-state database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def turn(self, contract: str, channel: str) -> AsyncIterator[LedgerTurn]:
        """A transaction holding the lock of (contract, channel); committed on success."""
        async with self.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if not postgres:
                await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            async with conn.begin():
                if postgres:
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"floe-alert\x1f{contract}\x1f{channel}"},
                    )
                yield LedgerTurn(conn, contract, channel)

    async def settle(self, delivery_id: int, status: str, reason: str | None) -> None:
        """Record how a claimed notification ended: ``sent`` or ``failed`` and why."""
        table = table_of(AlertDelivery)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(table).where(table.c.id == delivery_id).values(status=status, reason=reason)
            )

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
        table = table_of(AlertSilence)
        query = select(table).order_by(table.c.ends_at, table.c.id)
        if active_at is not None:
            query = query.where(table.c.starts_at <= active_at, table.c.ends_at > active_at)
        async with self.engine.connect() as conn:
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
