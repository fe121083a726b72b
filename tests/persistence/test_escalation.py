"""Repeated breaches become CRITICAL, counted from the database: real stale table, fixed clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from floe_core.config import MonitoringConfig, SeverityThresholds
from floe_core.events import (
    CheckReport,
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    ViolationSeverity,
    ViolationType,
)
from floe_core.monitoring.escalation import escalate
from floe_core.state.models import ContractCheckResult, ContractViolation
from floe_core.state.store import StateStore

ERROR, CRITICAL = ViolationSeverity.ERROR, ViolationSeverity.CRITICAL


async def freshness(lake: Any, store: StateStore | None, hours: float, **kw: Any) -> CheckReport:
    """Run the freshness check ``hours`` after the commit with a new monitor on ``store``."""
    lake.hours_later(hours)
    return await lake.monitor(store, **kw).run("orders", ["freshness"])


def severity(report: CheckReport) -> ViolationSeverity:
    [result] = report.results
    [event] = report.violations
    assert result.violation == event  # the result carries the (escalated) event too
    return event.severity


def test_the_fourth_stale_run_within_24h_is_critical(state_db: Any, stale_lake: Any) -> None:
    async def scenario() -> None:
        async with state_db.store() as store:
            monitor = stale_lake.monitor(store)
            seen = []
            for hours in (2, 3, 4, 5):
                stale_lake.hours_later(hours)
                seen.append(await monitor.run("orders", ["freshness"]))
            assert [severity(r) for r in seen] == [ERROR, ERROR, ERROR, CRITICAL]
            [fourth] = seen[-1].violations
            assert fourth.metadata["escalated"] == "true"
            assert fourth.metadata["breaches_in_window"] == "4"
            assert fourth.metadata["table"] == "sales.orders"  # the check's own metadata stays
            assert "escalated" not in seen[2].violations[0].metadata
            assert monitor.persist_error is None

            async with store.engine.connect() as conn:
                stored = (
                    await conn.execute(
                        select(ContractViolation.severity).order_by(ContractViolation.detected_at)
                    )
                ).scalars()
                assert list(stored) == ["error", "error", "error", "critical"]
                last = (
                    await conn.execute(
                        select(ContractCheckResult.violation).where(
                            ContractCheckResult.id == uuid.UUID(seen[-1].results[0].id)
                        )
                    )
                ).scalar_one()
            assert last["severity"] == "critical"
            assert last["metadata"]["breaches_in_window"] == "4"

            [status] = await store.sla_statuses("orders")
            assert status.check_type is ViolationType.FRESHNESS
            assert status.consecutive_failures == 4
            assert status.violation_count_24h == 4
            assert status.compliance_pct == 0.0
            assert status.threshold == 3600.0
            assert abs(status.current_value - 5 * 3600) < 1

    asyncio.run(scenario())


def test_a_restarted_monitor_keeps_the_history(state_db: Any, stale_lake: Any) -> None:
    async def scenario() -> None:
        for hours in (2, 3, 4):  # a new engine, store and monitor for each run
            async with state_db.store() as store:
                assert severity(await freshness(stale_lake, store, hours)) is ERROR
        async with state_db.store() as store:
            assert severity(await freshness(stale_lake, store, 5)) is CRITICAL
        # Without the database, the same fourth run knows nothing of the first three.
        assert severity(await freshness(stale_lake, None, 5)) is ERROR

    asyncio.run(scenario())


def test_breaches_older_than_the_window_do_not_count(state_db: Any, stale_lake: Any) -> None:
    async def scenario() -> None:
        async with state_db.store() as store:
            for hours in (2, 3, 4):
                await freshness(stale_lake, store, hours)
            # At +27 h the window starts at +3 h: two breaches in it, this one the third.
            report = await freshness(stale_lake, store, 27)
            assert severity(report) is ERROR
            # At +27.5 h: +4 h and +27 h are in the window, with this one three again.
            assert severity(await freshness(stale_lake, store, 27.5)) is ERROR
            # At +28 h: +27 h, +27.5 h, and +4 h (the window's first instant) make three.
            assert severity(await freshness(stale_lake, store, 28)) is CRITICAL

    asyncio.run(scenario())


def test_the_thresholds_come_from_the_monitoring_config(state_db: Any, stale_lake: Any) -> None:
    config = MonitoringConfig(
        severity_thresholds=SeverityThresholds(critical_count=1, critical_window_hours=2)
    )

    async def scenario() -> None:
        async with state_db.store() as store:
            run = [await freshness(stale_lake, store, h, config=config) for h in (2, 3, 6)]
            # One breach allowed in a 2 h window: the second is CRITICAL; at +6 h the window
            # (from +4 h) is empty again.
            assert [severity(r) for r in run] == [ERROR, CRITICAL, ERROR]
            assert run[1].violations[0].metadata["breaches_in_window"] == "2"

    asyncio.run(scenario())


def event(check_type: ViolationType, level: ViolationSeverity, element: str) -> Any:
    return ContractViolationEvent(
        contract_name="payments",
        contract_version="3.0.0",
        violation_type=check_type,
        severity=level,
        message=f"{element} {level.value}",
        element=element,
        timestamp=datetime(2024, 6, 1, tzinfo=UTC),
        check_duration_seconds=0.1,
        metadata={"change": "x"},
    )


def result(check_type: ViolationType, violation: Any) -> CheckResult:
    return CheckResult(
        id=str(uuid.uuid4()),
        contract_name="payments",
        check_type=check_type,
        status=CheckStatus.FAIL,
        duration_seconds=0.1,
        timestamp=datetime(2024, 6, 1, tzinfo=UTC),
        violation=violation,
    )


def test_every_error_event_of_an_escalated_run_becomes_critical() -> None:
    drift = ViolationType.SCHEMA_DRIFT
    removed = event(drift, CRITICAL, "currency")
    retyped = event(drift, ERROR, "amount")
    added = event(drift, ViolationSeverity.WARNING, "note")
    stale = event(ViolationType.FRESHNESS, ERROR, "updated_at")
    results = [result(drift, removed), result(ViolationType.FRESHNESS, stale)]

    new_results, new_events = escalate(
        results,
        [removed, retyped, added, stale],
        {drift: 3, ViolationType.FRESHNESS: 2},
        SeverityThresholds(),
    )

    assert [e.severity for e in new_events] == [
        CRITICAL,
        CRITICAL,
        ViolationSeverity.WARNING,
        ERROR,
    ]
    assert new_events[0] is removed  # already CRITICAL: left as it is
    assert new_events[1].metadata == {"change": "x", "escalated": "true", "breaches_in_window": "4"}
    assert new_events[2] is added
    assert new_events[3] is stale  # the third freshness breach: not yet
    assert new_results[0].violation is removed
    assert new_results[1] is results[1]


def test_a_result_whose_worst_event_is_escalated_carries_the_escalated_copy() -> None:
    stale = event(ViolationType.FRESHNESS, ERROR, "updated_at")
    [escalated_result], [escalated] = escalate(
        [result(ViolationType.FRESHNESS, stale)],
        [stale],
        {ViolationType.FRESHNESS: 3},
        SeverityThresholds(),
    )
    assert escalated.severity is CRITICAL
    assert escalated_result.violation == escalated
    assert stale.severity is ERROR  # the original, frozen, is unchanged
