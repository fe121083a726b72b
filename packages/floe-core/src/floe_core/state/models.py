"""The monitoring tables: the six of the design's data model, and the alert state beside them.

Native ``UUID``, ``JSONB`` and ``TIMESTAMPTZ`` on PostgreSQL; on SQLite the portable
equivalents SQLAlchemy maps them to (``CHAR(32)``, ``JSON`` text, ``DATETIME``). Server-side
defaults are those of the PostgreSQL DDL; on SQLite, ``now()`` is ``CURRENT_TIMESTAMP`` and
``gen_random_uuid()`` an expression giving the same random (version 4) UUID as 32 hex digits.
The migrations in ``migrations/versions/`` create exactly these tables, and a test keeps the two
in step on both backends.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


class Json(TypeDecorator[Any]):
    """JSONB on PostgreSQL, JSON elsewhere; the PostgreSQL dialect is loaded only there."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


#: TIMESTAMPTZ on PostgreSQL; timezone-aware values everywhere.
Timestamp = DateTime(timezone=True)

#: A random version 4 UUID as SQLAlchemy stores ``Uuid`` on SQLite: 32 lower-case hex digits.
SQLITE_RANDOM_UUID = (
    "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


class now_default(FunctionElement[datetime]):
    """Server default "now": ``now()`` on PostgreSQL, ``CURRENT_TIMESTAMP`` (UTC) on SQLite."""

    type = Timestamp
    inherit_cache = True


class random_uuid_default(FunctionElement[uuid.UUID]):
    """Server default for UUID keys: ``gen_random_uuid()`` on PostgreSQL, its twin on SQLite."""

    type = Uuid()
    inherit_cache = True


@compiles(now_default)
def _now_sqlite(element: now_default, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(now_default, "postgresql")
def _now_postgresql(element: now_default, compiler: SQLCompiler, **kw: Any) -> str:
    return "now()"


@compiles(random_uuid_default)
def _uuid_sqlite(element: random_uuid_default, compiler: SQLCompiler, **kw: Any) -> str:
    return SQLITE_RANDOM_UUID


@compiles(random_uuid_default, "postgresql")
def _uuid_postgresql(element: random_uuid_default, compiler: SQLCompiler, **kw: Any) -> str:
    return "gen_random_uuid()"


_NOW = now_default()
_RANDOM_UUID = random_uuid_default()


class Base(DeclarativeBase):
    """Declarative base of the monitoring tables."""


def table_of(model: type[Base]) -> Table:
    """The Core ``Table`` of a mapped model, for statements that need no ORM."""
    table: Table = model.__table__  # type: ignore[assignment]
    return table


class ContractCheckResult(Base):
    """``contract_check_results``: one row per check run (90-day retention)."""

    __tablename__ = "contract_check_results"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=_RANDOM_UUID)
    contract_name: Mapped[str] = mapped_column(String(255), nullable=False)
    check_type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    duration_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    checked_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json, server_default=text("'{}'"))
    # The DDL's "DEFAULT NULL" is every nullable column's default; PostgreSQL records none.
    violation: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)

    __table_args__ = (
        Index("idx_check_results_contract", "contract_name", "checked_at"),
        Index("idx_check_results_type", "check_type", "checked_at"),
    )


class ContractViolation(Base):
    """``contract_violations``: one row per violation event (90-day retention)."""

    __tablename__ = "contract_violations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, server_default=_RANDOM_UUID)
    contract_name: Mapped[str] = mapped_column(String(255), nullable=False)
    contract_version: Mapped[str] = mapped_column(String(50), nullable=False)
    violation_type: Mapped[str] = mapped_column(String(50), nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    element: Mapped[str | None] = mapped_column(String(255))
    expected_value: Mapped[str | None] = mapped_column(Text)
    actual_value: Mapped[str | None] = mapped_column(Text)
    affected_consumers: Mapped[list[str] | None] = mapped_column(Json, server_default=text("'[]'"))
    detected_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)
    check_result_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contract_check_results.id")
    )

    __table_args__ = (
        Index("idx_violations_contract", "contract_name", "detected_at"),
        Index("idx_violations_severity", "severity", "detected_at"),
        # Not in the design's DDL: retention deletes check results through this foreign key.
        Index("idx_violations_check_result", "check_result_id"),
    )


class ContractSLAStatus(Base):
    """``contract_sla_status``: the current SLA status per (contract, check type)."""

    __tablename__ = "contract_sla_status"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    check_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    current_value: Mapped[float] = mapped_column(Float, nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    compliance_pct: Mapped[float] = mapped_column(Float, nullable=False)
    last_check_time: Mapped[datetime | None] = mapped_column(Timestamp)
    consecutive_failures: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    violation_count_24h: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    window_start: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)


class ContractDailyAggregate(Base):
    """``contract_daily_aggregates``: one row per (contract, check type, day), kept forever."""

    __tablename__ = "contract_daily_aggregates"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    check_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    total_checks: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    passed_checks: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    failed_checks: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    error_checks: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    avg_duration_seconds: Mapped[float | None] = mapped_column(Float)
    min_quality_score: Mapped[float | None] = mapped_column(Float)
    max_quality_score: Mapped[float | None] = mapped_column(Float)
    avg_quality_score: Mapped[float | None] = mapped_column(Float)
    uptime_pct: Mapped[float | None] = mapped_column(Float)
    violation_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class RegisteredContractRow(Base):
    """``registered_contracts``: the active monitoring set."""

    __tablename__ = "registered_contracts"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    contract_version: Mapped[str] = mapped_column(String(50), nullable=False)
    contract_data: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False)
    connection_config: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False)
    monitoring_overrides: Mapped[dict[str, Any] | None] = mapped_column(Json)
    registered_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)
    last_check_times: Mapped[dict[str, Any] | None] = mapped_column(
        Json, server_default=text("'{}'")
    )
    active: Mapped[bool | None] = mapped_column(Boolean, server_default=text("TRUE"))
    # When it was last (re-)registered: a running monitor re-reads only what changed.
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AlertDedupState(Base):
    """``alert_dedup_state``: when each (contract, violation type) was last alerted."""

    __tablename__ = "alert_dedup_state"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    violation_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_alerted_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    alert_count_window: Mapped[int | None] = mapped_column(Integer, server_default=text("1"))
    window_start: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class AlertChannelState(Base):
    """``alert_channel_state``: what each channel was last sent about a (contract, type)."""

    __tablename__ = "alert_channel_state"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    violation_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    channel_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    firing: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("FALSE"))
    severity: Mapped[str | None] = mapped_column(String(20))
    elements: Mapped[list[str]] = mapped_column(Json, nullable=False, server_default=text("'[]'"))
    last_sent_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AlertDelivery(Base):
    """``alert_deliveries``: every notification outcome (sent, suppressed, failed)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by floe
    contract_name: Mapped[str] = mapped_column(String(255), nullable=False)
    channel_name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    violation_types: Mapped[list[str]] = mapped_column(Json, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)

    __table_args__ = (
        Index("idx_alert_deliveries_contract", "contract_name", "channel_name", "created_at"),
    )


class AlertSilence(Base):
    """``alert_silences``: violations recorded but not sent, by contract glob and type."""

    __tablename__ = "alert_silences"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contract_pattern: Mapped[str] = mapped_column(String(255), nullable=False)
    violation_type: Mapped[str | None] = mapped_column(String(50))
    starts_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)


class MonitorSchedule(Base):
    """``monitor_schedule``: when each (contract, check type) is next due, and its lease."""

    __tablename__ = "monitor_schedule"

    contract_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    check_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    interval_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    next_due_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_status: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("idx_monitor_schedule_due", "next_due_at"),)


class MonitorReplica(Base):
    """``monitor_replicas``: each running monitor and its heartbeat."""

    __tablename__ = "monitor_replicas"

    replica_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)
    heartbeat_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False, server_default=_NOW)


class MonitorJob(Base):
    """``monitor_jobs``: once-a-day jobs (retention), claimed by one replica per day."""

    __tablename__ = "monitor_jobs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp)
