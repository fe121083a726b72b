"""StateStore: the monitor's memory in the six monitoring tables, over an ``AsyncEngine``.

One run of a contract's checks is written in one transaction (results, violations, SLA
statuses, the registration's last check times): it is all there or none of it is. Every
datetime written is converted to UTC and every datetime read comes back timezone-aware UTC
(SQLite stores them naive). A store serves one event loop: the engine's pooled connections
belong to the loop that opened them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import ColumnElement, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from floe_core._redact import redact
from floe_core._time import as_utc
from floe_core.errors import InputError
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.state.engine import SQLITE_BEGIN
from floe_core.state.models import (
    ContractCheckResult,
    ContractSLAStatus,
    ContractViolation,
    RegisteredContractRow,
    table_of,
)
from floe_core.state.run_store import HistoryPoint as HistoryPoint
from floe_core.state.run_store import ProbePoint as ProbePoint

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql.dml import Insert as PgInsert
    from sqlalchemy.dialects.sqlite.dml import Insert as SqliteInsert

    from floe_core.config import MonitoringConfig
    from floe_core.contracts.registered import RegisteredContract

#: Severities that breach an SLA; stored as their enum values.
BREACH_SEVERITIES = (ViolationSeverity.ERROR.value, ViolationSeverity.CRITICAL.value)
_DIALECTS = ("postgresql", "sqlite")


class Registration(NamedTuple):
    """A registered contract's schedule: since when, and its monitoring overrides."""

    contract_name: str
    registered_at: datetime
    monitoring_overrides: MonitoringConfig | None


class StateStore:
    """Reads and writes check history, violations, SLA status and registered contracts."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name not in _DIALECTS:
            raise InputError(
                f"state database '{engine.dialect.name}' is not supported; "
                "use a postgresql:// or sqlite:// URL"
            )
        self.engine = engine

    @property
    def display(self) -> str:
        """The database URL with its password and secret query values masked."""
        return redact(self.engine.url.render_as_string(hide_password=True))

    # Writing one run --------------------------------------------------------------------

    @property
    def failures(self) -> tuple[type[BaseException], ...]:
        """The errors that mean the database could not be used: the driver's, the network's."""
        from sqlalchemy.exc import SQLAlchemyError

        return (SQLAlchemyError, OSError)

    async def record_run(
        self,
        registered: RegisteredContract | str,
        results: Sequence[CheckResult],
        events: Sequence[ContractViolationEvent],
        statuses: Sequence[SLAStatus],
    ) -> None:
        """Write one run of the contract (or of the registered name) in one transaction; on
        any failure nothing of it is stored."""
        written = as_utc(datetime.now(UTC))
        result_ids = {r.check_type: uuid.UUID(r.id) for r in results}
        result_rows = [_result_row(r, written) for r in results]
        violation_rows = [_violation_row(e, result_ids.get(e.violation_type)) for e in events]
        async with self.engine.begin() as conn:
            if result_rows:
                await conn.execute(table_of(ContractCheckResult).insert(), result_rows)
            if violation_rows:
                await conn.execute(table_of(ContractViolation).insert(), violation_rows)
            if statuses:
                await self._upsert_statuses(conn, statuses, written)
            await self._touch_registration(conn, registered, results)

    async def _upsert_statuses(
        self, conn: AsyncConnection, statuses: Sequence[SLAStatus], written: datetime
    ) -> None:
        table = table_of(ContractSLAStatus)
        rows = [_status_row(s, written) for s in statuses]
        stmt = self._insert(table).values(rows)
        keys = ("contract_name", "check_type")
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
        )
        await conn.execute(stmt)

    async def _touch_registration(
        self,
        conn: AsyncConnection,
        registered: RegisteredContract | str,
        results: Iterable[CheckResult],
    ) -> None:
        """Merge this run's check times into the registration's, if the contract is registered."""
        table = table_of(RegisteredContractRow)
        name = registered if isinstance(registered, str) else registered.contract_name
        found = await conn.execute(
            select(table.c.last_check_times).where(table.c.contract_name == name).with_for_update()
        )
        row = found.first()
        if row is None:
            return
        times: dict[str, Any] = dict(row.last_check_times or {})
        for result in results:
            times[result.check_type.value] = as_utc(result.timestamp).isoformat()
        await conn.execute(
            update(table).where(table.c.contract_name == name).values(last_check_times=times)
        )

    def _insert(self, table: Table) -> PgInsert | SqliteInsert:
        # Imported here: a run on SQLite never loads the PostgreSQL dialect, and vice versa.
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # Reading history --------------------------------------------------------------------

    async def breaches_in_window(
        self, contract_name: str, violation_type: ViolationType | str, since: datetime
    ) -> int:
        """How many persisted check runs breached (an ERROR or CRITICAL violation) since ``since``.

        The violations of one run count once: a drift of four columns is one breach.
        """
        breaches = await self.breaches_by_type(contract_name, since)
        return breaches.get(ViolationType(violation_type), 0)

    async def breaches_by_type(
        self, contract_name: str, since: datetime
    ) -> dict[ViolationType, int]:
        """``breaches_in_window`` of every violation type at once (types without any left out)."""
        v = table_of(ContractViolation)
        runs = func.count(func.distinct(func.coalesce(v.c.check_result_id, v.c.id)))
        stmt = (
            select(v.c.violation_type, runs)
            .where(
                v.c.contract_name == contract_name,
                v.c.severity.in_(BREACH_SEVERITIES),
                v.c.detected_at >= as_utc(since),
            )
            .group_by(v.c.violation_type)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {ViolationType(kind): int(n) for kind, n in rows}

    async def check_history(
        self, contract_name: str, check_type: ViolationType | str, since: datetime
    ) -> list[HistoryPoint]:
        """The persisted runs of one check type since ``since``, oldest first."""
        kind = ViolationType(check_type)
        return (await self.check_histories(contract_name, [kind], since))[kind]

    async def check_histories(
        self, contract_name: str, check_types: Iterable[ViolationType], since: datetime
    ) -> dict[ViolationType, list[HistoryPoint]]:
        """``check_history`` of several check types in one query."""
        r = table_of(ContractCheckResult)
        kinds = list(check_types)
        stmt = (
            select(r.c.check_type, r.c.checked_at, r.c.status)
            .where(
                r.c.contract_name == contract_name,
                r.c.check_type.in_([k.value for k in kinds]),
                r.c.checked_at >= as_utc(since),
            )
            .order_by(r.c.checked_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        histories: dict[ViolationType, list[HistoryPoint]] = {k: [] for k in kinds}
        for kind, at, status in rows:
            histories[ViolationType(kind)].append(HistoryPoint(as_utc(at), CheckStatus(status)))
        return histories

    async def probe_history(self, contract_name: str, since: datetime) -> list[ProbePoint]:
        """The persisted availability probes since ``since``, oldest first.

        Read from the availability results' ``details.probe.ok`` (only that value leaves the
        database); a run that could not probe (an ``error`` without a probe) counts as no
        probe, as it does in the check itself.
        """
        r = table_of(ContractCheckResult)
        ok = r.c.details[("probe", "ok")].as_boolean()
        stmt = (
            select(r.c.checked_at, ok)
            .where(
                r.c.contract_name == contract_name,
                r.c.check_type == ViolationType.AVAILABILITY.value,
                r.c.checked_at >= as_utc(since),
                ok.is_not(None),
            )
            .order_by(r.c.checked_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [ProbePoint(as_utc(at), bool(probe_ok)) for at, probe_ok in rows]

    async def consecutive_failures(
        self, contract_name: str, check_type: ViolationType | str
    ) -> int:
        """Failed runs since the last passing one; ``error`` and ``skipped`` runs do not count."""
        kind = ViolationType(check_type)
        return (await self.consecutive_failures_by_type(contract_name, [kind])).get(kind, 0)

    async def consecutive_failures_by_type(
        self, contract_name: str, check_types: Iterable[ViolationType]
    ) -> dict[ViolationType, int]:
        """``consecutive_failures`` of several check types in one query (zeros left out)."""
        r = table_of(ContractCheckResult)
        passed = r.alias("passed")
        last_pass = (
            select(func.max(passed.c.checked_at))
            .where(
                passed.c.contract_name == contract_name,
                passed.c.check_type == r.c.check_type,
                passed.c.status == CheckStatus.PASS.value,
            )
            .scalar_subquery()
        )
        stmt = (
            select(r.c.check_type, func.count())
            .where(
                r.c.contract_name == contract_name,
                r.c.check_type.in_([ViolationType(k).value for k in check_types]),
                r.c.status == CheckStatus.FAIL.value,
                (r.c.checked_at > last_pass) | last_pass.is_(None),
            )
            .group_by(r.c.check_type)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {ViolationType(kind): int(n) for kind, n in rows}

    async def sla_statuses(self, contract_name: str | None = None) -> list[SLAStatus]:
        """The stored SLA status of every (contract, check type), or of one contract's types."""
        s = table_of(ContractSLAStatus)
        stmt = select(s).order_by(s.c.contract_name, s.c.check_type)
        if contract_name is not None:
            stmt = stmt.where(s.c.contract_name == contract_name)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            SLAStatus(
                contract_name=row["contract_name"],
                check_type=ViolationType(row["check_type"]),
                current_value=row["current_value"],
                threshold=row["threshold"],
                compliance_pct=row["compliance_pct"],
                last_check_time=as_utc(row["last_check_time"]) if row["last_check_time"] else None,
                consecutive_failures=row["consecutive_failures"] or 0,
                violation_count_24h=row["violation_count_24h"] or 0,
                window_start=as_utc(row["window_start"]),
            )
            for row in rows
        ]

    async def recent_results(
        self,
        contract_name: str,
        since: datetime,
        limit: int | None = None,
        *,
        until: datetime | None = None,
        check_types: Iterable[ViolationType] = (),
    ) -> list[CheckResult]:
        """The persisted check results of one contract since ``since``, newest first.

        ``until`` (excluded) bounds them; ``check_types`` narrows them (default: every type).
        """
        r = table_of(ContractCheckResult)
        stmt = (
            select(r)
            .where(
                r.c.contract_name == contract_name,
                *_between(r.c.checked_at, since, until),
                *_of_types(r.c.check_type, check_types),
            )
            .order_by(r.c.checked_at.desc(), r.c.check_type)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [check_result_of(row) for row in rows]

    async def recent_violations(
        self,
        contract_name: str,
        since: datetime,
        limit: int | None = None,
        *,
        until: datetime | None = None,
        check_types: Iterable[ViolationType] = (),
    ) -> list[ContractViolationEvent]:
        """The persisted violations of one contract since ``since``, newest first.

        ``check_duration_seconds`` is that of the run's stored check result (0 without one);
        ``metadata`` (escalation) is kept only on the event its result carries. ``until`` and
        ``check_types`` as for ``recent_results``.
        """
        v = table_of(ContractViolation)
        r = table_of(ContractCheckResult)
        stmt = (
            select(v, r.c.duration_seconds, r.c.violation.label("result_violation"))
            .select_from(v.outerjoin(r, v.c.check_result_id == r.c.id))
            .where(
                v.c.contract_name == contract_name,
                *_between(v.c.detected_at, since, until),
                *_of_types(v.c.violation_type, check_types),
            )
            .order_by(v.c.detected_at.desc(), v.c.violation_type, v.c.element, v.c.message)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        events = []
        for row in rows:
            carried = row["result_violation"] or {}
            same = all(
                carried.get(k) == row[k] for k in ("severity", "message", "element")
            ) and bool(carried)
            events.append(
                ContractViolationEvent(
                    contract_name=row["contract_name"],
                    contract_version=row["contract_version"],
                    violation_type=ViolationType(row["violation_type"]),
                    severity=ViolationSeverity(row["severity"]),
                    message=row["message"],
                    element=row["element"],
                    expected_value=row["expected_value"],
                    actual_value=row["actual_value"],
                    timestamp=as_utc(row["detected_at"]),
                    affected_consumers=list(row["affected_consumers"] or []),
                    check_duration_seconds=row["duration_seconds"] or 0.0,
                    metadata=dict(carried.get("metadata") or {}) if same else {},
                )
            )
        return events

    # Registered contracts ---------------------------------------------------------------

    async def register_contract(self, registered: RegisteredContract) -> None:
        """Add ``registered`` to the monitoring set, or replace its contract if it is there.

        Re-registering keeps the original ``registered_at`` and the last check times. A
        contract registered for the first time takes its last check times from the history
        already stored for it (a ``floe sla check`` run before ``register``, or a contract
        unregistered and registered again).
        """
        table = table_of(RegisteredContractRow)
        row = _registration_row(registered)
        kept = ("contract_name", "registered_at", "last_check_times")
        async with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # it reads, then writes: take the lock at once
                await conn.execution_options(**{SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            await conn.begin()
            checked = await self._last_check_times(conn, registered.contract_name)
            for check_type, moment in checked.items():
                stored = row["last_check_times"].get(check_type)
                if stored is None or datetime.fromisoformat(stored) < moment:
                    row["last_check_times"][check_type] = moment.isoformat()
            stmt = self._insert(table).values(row)
            stmt = stmt.on_conflict_do_update(
                index_elements=["contract_name"],
                set_={c: stmt.excluded[c] for c in row if c not in kept},
            )
            await conn.execute(stmt)
            await conn.commit()

    @staticmethod
    async def _last_check_times(conn: AsyncConnection, contract_name: str) -> dict[str, datetime]:
        """When each check type last ran for ``contract_name``, from the stored results."""
        results = table_of(ContractCheckResult)
        found = await conn.execute(
            select(results.c.check_type, func.max(results.c.checked_at))
            .where(results.c.contract_name == contract_name)
            .group_by(results.c.check_type)
        )
        return {check_type: as_utc(at) for check_type, at in found.all() if at is not None}

    async def unregister_contract(self, contract_name: str) -> bool:
        """Remove ``contract_name`` from the monitoring set; False if it was not there.

        Its check history, violations and SLA status stay.
        """
        table = table_of(RegisteredContractRow)
        async with self.engine.begin() as conn:
            done = await conn.execute(delete(table).where(table.c.contract_name == contract_name))
        return bool(done.rowcount)

    async def list_contracts(self, *, active_only: bool = False) -> list[RegisteredContract]:
        """The registered contracts, by name; their contracts validate as ODCS again."""
        table = table_of(RegisteredContractRow)
        stmt = select(table).order_by(table.c.contract_name)
        if active_only:
            stmt = stmt.where(table.c.active.is_not(False))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_registered(row) for row in rows]

    async def registrations(self) -> list[Registration]:
        """When each contract was registered and its monitoring overrides, contracts unread.

        Cheaper than ``list_contracts`` (which validates every stored ODCS contract again)
        for what needs only the schedule, such as a report's coverage.
        """
        table = table_of(RegisteredContractRow)
        stmt = select(
            table.c.contract_name, table.c.registered_at, table.c.monitoring_overrides
        ).order_by(table.c.contract_name)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Registration(name, as_utc(at), _overrides(overrides)) for name, at, overrides in rows
        ]

    async def get_contract(self, contract_name: str) -> RegisteredContract | None:
        """The registration of ``contract_name``, if there is one."""
        table = table_of(RegisteredContractRow)
        stmt = select(table).where(table.c.contract_name == contract_name)
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _registered(row) if row is not None else None


def check_result_of(row: Any) -> CheckResult:
    """A ``CheckResult`` from a row of ``contract_check_results`` (as a mapping)."""
    return CheckResult(
        id=str(row["id"]),
        contract_name=row["contract_name"],
        check_type=ViolationType(row["check_type"]),
        status=CheckStatus(row["status"]),
        duration_seconds=row["duration_seconds"],
        timestamp=as_utc(row["checked_at"]),
        details=row["details"] or {},
        violation=(
            ContractViolationEvent.model_validate(row["violation"]) if row["violation"] else None
        ),
    )


def _between(
    column: ColumnElement[datetime], since: datetime, until: datetime | None
) -> list[ColumnElement[bool]]:
    """``since <= column`` and, with an ``until``, ``column < until``."""
    conditions = [column >= as_utc(since)]
    if until is not None:
        conditions.append(column < as_utc(until))
    return conditions


def _of_types(
    column: ColumnElement[str], check_types: Iterable[ViolationType]
) -> list[ColumnElement[bool]]:
    """``column`` among ``check_types``; no condition when none are given (every type)."""
    kinds = [ViolationType(k).value for k in check_types]
    return [column.in_(kinds)] if kinds else []


def _result_row(result: CheckResult, written: datetime) -> dict[str, Any]:
    dumped = result.model_dump(mode="json")
    return {
        "id": uuid.UUID(result.id),
        "contract_name": result.contract_name,
        "check_type": result.check_type.value,
        "status": result.status.value,
        "duration_seconds": result.duration_seconds,
        "checked_at": as_utc(result.timestamp),
        "details": dumped["details"],
        "violation": dumped["violation"],
        "created_at": written,
    }


def _violation_row(event: ContractViolationEvent, result_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "contract_name": event.contract_name,
        "contract_version": event.contract_version,
        "violation_type": event.violation_type.value,
        "severity": event.severity.value,
        "message": event.message,
        "element": event.element,
        "expected_value": event.expected_value,
        "actual_value": event.actual_value,
        "affected_consumers": list(event.affected_consumers),
        "detected_at": as_utc(event.timestamp),
        "check_result_id": result_id,
    }


def _status_row(status: SLAStatus, written: datetime) -> dict[str, Any]:
    return {
        "contract_name": status.contract_name,
        "check_type": status.check_type.value,
        "current_value": status.current_value,
        "threshold": status.threshold,
        "compliance_pct": status.compliance_pct,
        "last_check_time": as_utc(status.last_check_time) if status.last_check_time else None,
        "consecutive_failures": status.consecutive_failures,
        "violation_count_24h": status.violation_count_24h,
        "window_start": as_utc(status.window_start),
        "updated_at": written,
    }


def _registration_row(registered: RegisteredContract) -> dict[str, Any]:
    dumped = registered.model_dump(mode="json", include={"connection_config"})
    overrides = registered.monitoring_overrides
    return {
        "contract_name": registered.contract_name,
        "contract_version": registered.contract_version,
        "contract_data": registered.contract.model_dump(
            mode="json", by_alias=True, exclude_none=True
        ),
        "connection_config": dumped["connection_config"],
        # Only what the override sets: it is merged field by field over the manifest's.
        "monitoring_overrides": (
            overrides.model_dump(mode="json", exclude_unset=True) if overrides else None
        ),
        "registered_at": as_utc(registered.registered_at),
        "last_check_times": {
            k: as_utc(v).isoformat() for k, v in registered.last_check_times.items()
        },
        "active": registered.active,
        "updated_at": datetime.now(UTC),
    }


def _overrides(stored: dict[str, Any] | None) -> MonitoringConfig | None:
    from floe_core.config import MonitoringConfig

    return MonitoringConfig.model_validate(stored) if stored else None


def _registered(row: Any) -> RegisteredContract:
    from floe_core.contracts.model import DataContract
    from floe_core.contracts.registered import RegisteredContract

    overrides = row["monitoring_overrides"]
    return RegisteredContract(
        contract_name=row["contract_name"],
        contract_version=row["contract_version"],
        contract=DataContract.model_validate(row["contract_data"]),
        connection_config=row["connection_config"],
        monitoring_overrides=_overrides(overrides),
        registered_at=as_utc(row["registered_at"]),
        last_check_times={
            k: as_utc(datetime.fromisoformat(v)) for k, v in (row["last_check_times"] or {}).items()
        },
        active=row["active"] is not False,
    )
