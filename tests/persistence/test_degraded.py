"""Degraded, not dead: with the state database down or failing, the checks still report."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from floe_core.events import CheckStatus, ViolationSeverity
from floe_core.plugins.metadata import HealthState
from floe_core.state.models import ContractCheckResult, ContractViolation
from floe_core.state.store import StateStore

MONITOR_LOG = "floe_core.monitoring.monitor"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == MONITOR_LOG and r.levelno >= logging.WARNING
    ]


def test_an_unreachable_database_degrades_the_monitor(
    stale_lake: Any, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+psycopg://floe:s3cret@127.0.0.1:{closed_port}/floe"

    async def scenario() -> None:
        engine = create_async_engine(url)
        try:
            monitor = stale_lake.monitor(StateStore(engine))
            assert monitor.health().state is HealthState.HEALTHY
            reports = []
            for hours in (2, 3, 4, 5):  # four breaches, but no history to escalate them by
                stale_lake.hours_later(hours)
                reports.append(await monitor.run("orders", ["freshness"]))
        finally:
            await engine.dispose()
        for report in reports:
            [result] = report.results
            assert result.status is CheckStatus.FAIL
            assert [v.severity for v in report.violations] == [ViolationSeverity.ERROR]
        health = monitor.health()
        assert health.state is HealthState.DEGRADED
        assert health.message == monitor.persist_error
        assert health.details["persist_failures"] == 4
        assert monitor.persist_failures == 4

    with caplog.at_level(logging.DEBUG, logger="floe_core"):
        asyncio.run(scenario())
    [warning] = warnings_of(caplog)  # once, not once per run
    assert "could not read the history of contract orders" in warning
    assert f"postgresql+psycopg://floe:***@127.0.0.1:{closed_port}/floe" in warning
    assert "s3cret" not in caplog.text
    assert "not escalated to CRITICAL" in warning
    assert "the checks ran and are reported" in warning


def test_a_failed_write_keeps_the_report_and_the_database_intact(
    state_db: Any, stale_lake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def fail_violation_inserts(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CONTRACT_VIOLATIONS"):
            raise OperationalError(statement, None, OSError("disk I/O error"))

    async def scenario() -> None:
        async with state_db.store() as store:
            monitor = stale_lake.monitor(store)
            stale_lake.hours_later(2)
            await monitor.run("orders", ["freshness"])
            assert monitor.health().state is HealthState.HEALTHY

            event.listen(store.engine.sync_engine, "before_cursor_execute", fail_violation_inserts)
            stale_lake.hours_later(3)
            report = await monitor.run("orders", ["freshness"])
            event.remove(store.engine.sync_engine, "before_cursor_execute", fail_violation_inserts)

            assert report.results[0].status is CheckStatus.FAIL
            assert len(report.violations) == 1
            assert monitor.health().state is HealthState.DEGRADED
            assert monitor.persist_error is not None
            assert "could not persist the check results of contract orders" in monitor.persist_error
            assert "disk I/O error" in monitor.persist_error
            # The run's result went out before its violation failed; the rollback took it back.
            assert await state_db.count(store, ContractCheckResult) == 1
            assert await state_db.count(store, ContractViolation) == 1

            stale_lake.hours_later(4)
            await monitor.run("orders", ["freshness"])  # the database works again
            assert monitor.health().state is HealthState.HEALTHY
            assert monitor.persist_error is None
            assert await state_db.count(store, ContractCheckResult) == 2

    with caplog.at_level(logging.INFO, logger="floe_core"):
        asyncio.run(scenario())
    assert len(warnings_of(caplog)) == 1
    assert "reachable again" in caplog.text


def test_without_a_state_store_the_monitor_is_healthy_and_persists_nothing(
    stale_lake: Any,
) -> None:
    monitor = stale_lake.monitor()
    stale_lake.hours_later(2)
    report = asyncio.run(monitor.run("orders", ["freshness"]))
    assert report.violations[0].severity is ViolationSeverity.ERROR
    health = monitor.health()
    assert health.state is HealthState.HEALTHY
    assert health.details == {"persistence": "off"}
    assert monitor.persist_error is None
