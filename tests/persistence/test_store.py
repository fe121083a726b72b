"""StateStore on both backends: one run written in one transaction, and what reads give back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError

from floe_core.config import MonitoringConfig, SeverityThresholds
from floe_core.contracts.loader import load_contract
from floe_core.contracts.registered import RegisteredContract
from floe_core.errors import InputError
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.state.models import (
    ContractCheckResult,
    ContractSLAStatus,
    ContractViolation,
    RegisteredContractRow,
)
from floe_core.state.store import HistoryPoint, ProbePoint, StateStore
from tests._factories import T0, sla_status, violation
from tests._factories import check_result as _check_result

STALE = {"tables": [{"table": "sales.orders", "age_seconds": 10800.0}]}

FRESHNESS = ViolationType.FRESHNESS
QUALITY = ViolationType.QUALITY
event_at = violation


def result_at(
    at: datetime,
    status: CheckStatus,
    check_type: ViolationType = FRESHNESS,
    violation: ContractViolationEvent | None = None,
    details: dict[str, Any] | None = None,
) -> CheckResult:
    return _check_result(at, status, check_type, violation, details=details or STALE)


def status_of(check_type: ViolationType, value: float, at: datetime = T0) -> SLAStatus:
    return sla_status(check_type, value, at=at)


@pytest.fixture
def registered(write_contract: Callable[..., Path]) -> RegisteredContract:
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "orders-contract",
        "name": "orders",
        "version": "1.2.0",
        "status": "active",
        "schema": [{"name": "orders", "physicalName": "sales.orders"}],
        "slaProperties": [
            {"property": "latency", "value": 1, "unit": "h"},
            {"property": "endOfLife", "value": "2026-12-31"},
        ],
        "customProperties": [{"property": "consumers", "value": ["finance-dashboard"]}],
    }
    contract = load_contract(write_contract(yaml.safe_dump(doc), "orders.yaml"))
    return RegisteredContract(
        contract_name="orders",
        contract_version="1.2.0",
        contract=contract,
        connection_config={"source": "contract", "catalog": {"type": "sql", "config": {}}},
        monitoring_overrides=MonitoringConfig(
            severity_thresholds=SeverityThresholds(critical_count=5)
        ),
        registered_at=T0 - timedelta(days=1),
    )


def test_a_run_is_written_whole_and_reads_back_in_utc(state_db: Any, registered: Any) -> None:
    breach = event_at(T0)
    warning = event_at(T0, ViolationSeverity.WARNING, element="updated_at")
    failed = result_at(T0, CheckStatus.FAIL, violation=breach)
    quality = result_at(T0, CheckStatus.PASS, QUALITY, details={"quality_score": 100.0})

    async def scenario() -> None:
        async with state_db.store() as store:
            await store.register_contract(registered)
            await store.record_run(
                registered, [failed, quality], [breach, warning], [status_of(FRESHNESS, 10800)]
            )
            async with store.engine.connect() as conn:
                results = (await conn.execute(select(ContractCheckResult))).mappings().all()
                violations = (await conn.execute(select(ContractViolation))).mappings().all()
            by_type = {r["check_type"]: r for r in results}
            assert set(by_type) == {"freshness", "quality"}
            row = by_type["freshness"]
            assert row["id"] == uuid.UUID(failed.id)
            assert row["status"] == "fail"
            assert row["details"] == failed.model_dump(mode="json")["details"]
            assert row["violation"] == breach.model_dump(mode="json")
            assert by_type["quality"]["violation"] is None
            assert {v["severity"] for v in violations} == {"error", "warning"}
            assert {v["check_result_id"] for v in violations} == {uuid.UUID(failed.id)}
            assert all(v["affected_consumers"] == ["finance-dashboard"] for v in violations)

            assert await store.check_history("orders", FRESHNESS, T0 - timedelta(hours=1)) == [
                HistoryPoint(T0, CheckStatus.FAIL)
            ]
            [status] = await store.sla_statuses("orders")
            assert status == status_of(FRESHNESS, 10800)
            assert status.last_check_time is not None
            assert status.last_check_time.tzinfo is not None
            restored = await store.get_contract("orders")
            assert restored is not None
            assert restored.last_check_times == {"freshness": T0, "quality": T0}

    asyncio.run(scenario())


def test_a_failure_mid_write_leaves_nothing_of_the_run(state_db: Any, registered: Any) -> None:
    earlier = result_at(T0 - timedelta(hours=1), CheckStatus.PASS)
    breach = event_at(T0)
    failed = result_at(T0, CheckStatus.FAIL, violation=breach)

    async def scenario() -> None:
        async with state_db.store() as store:
            await store.register_contract(registered)
            await store.record_run(registered, [earlier], [], [status_of(FRESHNESS, 1.0)])

            def fail_on_sla_status(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                if "contract_sla_status" in statement:
                    raise OperationalError(statement, None, OSError("disk I/O error"))

            event.listen(store.engine.sync_engine, "before_cursor_execute", fail_on_sla_status)
            with pytest.raises(OperationalError):
                await store.record_run(
                    registered, [failed], [breach], [status_of(FRESHNESS, 10800.0)]
                )
            event.remove(store.engine.sync_engine, "before_cursor_execute", fail_on_sla_status)

            # The results and violations were sent before the SLA status; none of it stayed.
            assert await state_db.count(store, ContractCheckResult) == 1
            assert await state_db.count(store, ContractViolation) == 0
            [status] = await store.sla_statuses("orders")
            assert status.current_value == 1.0
            restored = await store.get_contract("orders")
            assert restored is not None
            assert restored.last_check_times == {"freshness": T0 - timedelta(hours=1)}

    asyncio.run(scenario())


def test_a_constraint_violation_rolls_back_the_whole_run(state_db: Any, registered: Any) -> None:
    first = result_at(T0 - timedelta(hours=1), CheckStatus.PASS)
    breach = event_at(T0)
    again = result_at(T0, CheckStatus.FAIL, violation=breach)
    clash = first.model_copy(update={"check_type": QUALITY})  # same id as a stored result

    async def scenario() -> None:
        async with state_db.store() as store:
            await store.record_run(registered, [first], [], [])
            with pytest.raises(IntegrityError):
                await store.record_run(registered, [again, clash], [breach], [])
            assert await state_db.count(store, ContractCheckResult) == 1
            assert await state_db.count(store, ContractViolation) == 0
            [kept] = await store.check_history("orders", FRESHNESS, T0 - timedelta(days=1))
            assert kept == HistoryPoint(T0 - timedelta(hours=1), CheckStatus.PASS)

    asyncio.run(scenario())


def test_check_types_never_overwrite_each_others_sla_status(state_db: Any, registered: Any) -> None:
    async def scenario() -> None:
        async with state_db.store() as store:
            await store.record_run(registered, [], [], [status_of(FRESHNESS, 100.0)])
            await store.record_run(registered, [], [], [status_of(QUALITY, 75.0)])
            await store.record_run(
                registered, [], [], [status_of(FRESHNESS, 200.0, T0 + timedelta(hours=1))]
            )
            statuses = {s.check_type: s for s in await store.sla_statuses("orders")}
            assert statuses[FRESHNESS].current_value == 200.0
            assert statuses[FRESHNESS].last_check_time == T0 + timedelta(hours=1)
            assert statuses[QUALITY].current_value == 75.0
            assert statuses[QUALITY].last_check_time == T0
            assert await state_db.count(store, ContractSLAStatus) == 2

    asyncio.run(scenario())


def test_breaches_count_runs_of_error_or_worse_in_the_window(
    state_db: Any, registered: Any
) -> None:
    def run_at(hours: float, *severities: ViolationSeverity) -> tuple[Any, list[Any]]:
        at = T0 + timedelta(hours=hours)
        events = [event_at(at, s, element=f"c{i}") for i, s in enumerate(severities)]
        status = CheckStatus.FAIL if events else CheckStatus.PASS
        return result_at(at, status, violation=events[0] if events else None), events

    async def scenario() -> None:
        async with state_db.store() as store:
            for hours, severities in [
                (0, [ViolationSeverity.ERROR]),
                (1, [ViolationSeverity.CRITICAL, ViolationSeverity.ERROR]),  # one run: one
                (2, [ViolationSeverity.WARNING]),  # not a breach
                (3, [ViolationSeverity.ERROR]),
            ]:
                result, events = run_at(hours, *severities)
                await store.record_run(registered, [result], events, [])
            quality = event_at(T0, check_type=QUALITY)
            await store.record_run(
                registered, [result_at(T0, CheckStatus.FAIL, QUALITY, quality)], [quality], []
            )
            assert await store.breaches_in_window("orders", FRESHNESS, T0) == 3
            assert (
                await store.breaches_in_window("orders", "freshness", T0 + timedelta(hours=1)) == 2
            )
            assert await store.breaches_in_window("orders", QUALITY, T0) == 1
            assert await store.breaches_in_window("other", FRESHNESS, T0) == 0
            assert await store.consecutive_failures("orders", FRESHNESS) == 4

    asyncio.run(scenario())


def test_consecutive_failures_start_after_the_last_pass(state_db: Any, registered: Any) -> None:
    statuses = ["fail", "pass", "fail", "error", "skipped", "fail"]

    async def scenario() -> None:
        async with state_db.store() as store:
            assert await store.consecutive_failures("orders", FRESHNESS) == 0
            for hours, status in enumerate(statuses):
                at = T0 + timedelta(hours=hours)
                await store.record_run(registered, [result_at(at, CheckStatus(status))], [], [])
            assert await store.consecutive_failures("orders", FRESHNESS) == 2
            history = await store.check_history("orders", FRESHNESS, T0 + timedelta(hours=3))
            assert [p.status.value for p in history] == ["error", "skipped", "fail"]

    asyncio.run(scenario())


def test_probe_history_comes_from_availability_details(state_db: Any, registered: Any) -> None:
    def probe(at: datetime, ok: bool | None) -> CheckResult:
        details: dict[str, Any] = {"reason": "table_unresolved"}
        if ok is not None:
            details = {"probe": {"ok": ok, "reason": None if ok else "timeout"}}
        status = CheckStatus.ERROR if ok is None else CheckStatus.PASS
        return result_at(at, status, ViolationType.AVAILABILITY, details=details)

    async def scenario() -> None:
        async with state_db.store() as store:
            for minutes, ok in [(0, True), (5, False), (10, None), (15, True)]:
                at = T0 + timedelta(minutes=minutes)
                await store.record_run(registered, [probe(at, ok)], [], [])
            assert await store.probe_history("orders", T0) == [
                ProbePoint(T0, True),
                ProbePoint(T0 + timedelta(minutes=5), False),
                ProbePoint(T0 + timedelta(minutes=15), True),
            ]

    asyncio.run(scenario())


def test_times_in_other_zones_are_stored_as_utc(state_db: Any, registered: Any) -> None:
    paris = timezone(timedelta(hours=2))
    local = T0.astimezone(paris)
    breach = event_at(local)

    async def scenario() -> None:
        async with state_db.store() as store:
            await store.record_run(
                registered, [result_at(local, CheckStatus.FAIL, violation=breach)], [breach], []
            )
            [point] = await store.check_history("orders", FRESHNESS, T0 - timedelta(seconds=1))
            assert point.timestamp == T0
            assert point.timestamp.utcoffset() == timedelta(0)
            assert await store.breaches_in_window("orders", FRESHNESS, T0) == 1
            assert (
                await store.breaches_in_window("orders", FRESHNESS, T0 + timedelta(seconds=1)) == 0
            )

    asyncio.run(scenario())


def test_registered_contracts_persist_and_restore(state_db: Any, registered: Any) -> None:
    async def scenario() -> None:
        async with state_db.store() as store:
            await store.register_contract(registered)
        async with state_db.store() as store:  # a new engine: nothing cached
            [restored] = await store.list_contracts()
            assert restored.contract == registered.contract
            assert restored.contract_name == "orders"
            assert restored.contract_version == "1.2.0"
            assert restored.connection_config == registered.connection_config
            assert restored.monitoring_overrides == registered.monitoring_overrides
            assert restored.registered_at == registered.registered_at
            assert restored.active is True
            # Re-registering a new version keeps when it was first registered.
            newer = registered.model_copy(
                update={"contract_version": "1.3.0", "registered_at": T0 + timedelta(days=9)}
            )
            await store.register_contract(newer)
            [again] = await store.list_contracts(active_only=True)
            assert again.contract_version == "1.3.0"
            assert again.registered_at == registered.registered_at
            assert await store.unregister_contract("orders") is True
            assert await store.unregister_contract("orders") is False
            assert await store.list_contracts() == []
            assert await state_db.count(store, RegisteredContractRow) == 0

    asyncio.run(scenario())


def test_an_unsupported_dialect_is_refused() -> None:
    engine = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    with pytest.raises(InputError, match="'mysql' is not supported"):
        StateStore(engine)  # type: ignore[arg-type]
