"""Uptime from the persisted probes: separate ``floe sla check`` processes and a restarted
monitor judge the availability window over the stored history, on SQLite and PostgreSQL.

A "process" here is what one ``floe sla check`` is: a new engine on the state database, a new
``ContractMonitor``, one run, the engine disposed. Nothing is shared between two of them but
the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from floe_core.contracts.model import DataContract
from floe_core.events import CheckResult, CheckStatus, ViolationType
from floe_core.plugins.metadata import HealthState
from floe_core.state.engine import open_state
from floe_core.state.models import ContractCheckResult
from floe_core.state.store import StateStore

AVAILABILITY = [ViolationType.AVAILABILITY]
MONITOR_LOG = "floe_core.monitoring.monitor"
#: The one query that reads persisted probes: ``StateStore.probe_history``.
PROBE_READ = "contract_check_results.details"


def window(result: CheckResult) -> tuple[int, int, int]:
    """(probes, failures, failures in a row) in a result's window."""
    d = result.details
    return d["probes_in_window"], d["failures_in_window"], d["consecutive_failures"]


async def one_process(lake: Any, state_url: str, contract: DataContract) -> CheckResult:
    """One ``floe sla check --check availability``: its own engine and monitor, one run."""
    engine = await open_state(state_url, auto_upgrade=True)
    try:
        monitor = lake.monitor(contract, state=StateStore(engine))
        [result] = await monitor.check("orders", AVAILABILITY)
        assert monitor.persist_error is None
        return result
    finally:
        await engine.dispose()


@contextmanager
def probe_reads(engine: AsyncEngine) -> Iterator[list[str]]:
    """The probe-history queries ``engine`` runs inside the block."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and PROBE_READ in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def test_separate_processes_accumulate_uptime(lake: Any, state_url: str) -> None:
    contract = lake.contract([lake.availability(90, "%")])
    table_up = [True, True, False, *[True] * 7, False, False]
    results = []
    for up in table_up:
        lake.up() if up else lake.down()
        lake.clock.advance(timedelta(minutes=5))
        results.append(asyncio.run(one_process(lake, state_url, contract)))

    failures = in_a_row = 0
    for n, (up, result) in enumerate(zip(table_up, results, strict=True), start=1):
        failures += not up
        in_a_row = 0 if up else in_a_row + 1
        assert window(result) == (n, failures, in_a_row)
        assert result.details["uptime_pct"] == pytest.approx(100 * (n - failures) / n, abs=1e-4)

    third, fourth, tenth, last = results[2], results[3], results[9], results[-1]
    assert third.status is CheckStatus.FAIL  # 2 of 3: below 90%
    assert third.violation is not None
    assert "uptime 66.7% over the last 24h (1 of 3 probes failed)" in third.violation.message
    # The table is back, but the failure one process saw still counts in the next one.
    assert fourth.status is CheckStatus.FAIL
    assert fourth.violation is not None
    assert fourth.violation.message.endswith("(1 of 4 probes failed); the latest probe succeeded")
    # 9 of 10: exactly the target, the whole error budget spent.
    assert tenth.status is CheckStatus.PASS
    assert tenth.details["budget_consumed_pct"] == 100.0
    assert tenth.violation is not None
    assert tenth.violation.severity.value == "warning"
    # Two failed processes in a row: the second knows it is the second.
    assert last.status is CheckStatus.FAIL
    assert last.violation is not None
    assert last.violation.metadata["consecutive_failures"] == "2"

    async def stored_uptime() -> float:
        engine = await open_state(state_url, auto_upgrade=False)
        try:
            [status] = await StateStore(engine).sla_statuses("orders")
        finally:
            await engine.dispose()
        return status.current_value

    # The check and the rolling SLA status now agree on what the uptime is.
    assert asyncio.run(stored_uptime()) == pytest.approx(last.details["uptime_pct"], abs=1e-4)


def test_a_restarted_monitor_starts_from_the_persisted_probes(lake: Any, state_url: str) -> None:
    contract = lake.contract([lake.availability(99, "%")])

    async def scenario() -> None:
        engine = await open_state(state_url, auto_upgrade=True)
        try:
            first = lake.monitor(contract, state=StateStore(engine))
            for up in (True, False, False, True):
                lake.up() if up else lake.down()
                lake.clock.advance(timedelta(minutes=5))
                await first.check("orders", AVAILABILITY)
        finally:
            await engine.dispose()

        lake.down()  # the monitor restarts while the table is gone
        engine = await open_state(state_url, auto_upgrade=False)
        try:
            restarted = lake.monitor(contract, state=StateStore(engine))
            with probe_reads(engine) as reads:
                lake.clock.advance(timedelta(minutes=5))
                [after_restart] = await restarted.check("orders", AVAILABILITY)
            assert len(reads) == 1  # read once, to seed the window and to roll the SLA status
            assert window(after_restart) == (5, 3, 1)
            assert after_restart.details["uptime_pct"] == 40.0

            lake.up()
            with probe_reads(engine) as reads:
                lake.clock.advance(timedelta(minutes=5))
                [next_run] = await restarted.check("orders", AVAILABILITY)
            assert len(reads) == 1  # the SLA status's read; the window is not seeded again
            assert window(next_run) == (6, 3, 0)  # the probe just persisted counts once
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_an_emptied_window_starts_again_from_other_processes_probes(
    lake: Any, state_url: str
) -> None:
    contract = lake.contract([lake.availability(99, "%")])

    async def scenario() -> None:
        engine = await open_state(state_url, auto_upgrade=True)
        cron_engine = await open_state(state_url, auto_upgrade=False)
        try:
            monitor = lake.monitor(contract, state=StateStore(engine))
            lake.down()
            [down] = await monitor.check("orders", AVAILABILITY)
            assert window(down) == (1, 1, 1)

            lake.up()  # a day on, while a cron job probed twice
            lake.clock.advance(timedelta(hours=24, minutes=1))
            cron = lake.monitor(contract, state=StateStore(cron_engine))
            for _ in range(2):
                lake.clock.advance(timedelta(minutes=5))
                await cron.check("orders", AVAILABILITY)

            lake.clock.advance(timedelta(minutes=5))
            [later] = await monitor.check("orders", AVAILABILITY)
            # Its own failure left the window; the cron job's probes are in it.
            assert window(later) == (3, 0, 0)
        finally:
            await cron_engine.dispose()
            await engine.dispose()

    asyncio.run(scenario())


def test_without_a_state_store_each_monitor_sees_its_own_probes(lake: Any) -> None:
    contract = lake.contract([lake.availability(99, "%")])
    lake.down()
    for _ in range(3):
        assert window(lake.probe(lake.monitor(contract))) == (1, 1, 1)
    monitor = lake.monitor(contract)
    assert window(lake.probe(monitor, times=3)) == (3, 3, 3)


def contract_file(write_contract: Callable[..., Path]) -> Path:
    return write_contract(
        yaml.safe_dump(
            {
                "apiVersion": "v3.1.0",
                "kind": "DataContract",
                "id": "orders-v1",
                "name": "orders",
                "version": "1.0.0",
                "status": "active",
                "schema": [{"name": "orders", "physicalName": "sales.orders"}],
                "slaProperties": [{"property": "availability", "value": "99.9%"}],
            },
            sort_keys=False,
        ),
        "orders.yaml",
    )


def test_floe_sla_check_runs_accumulate_and_no_persist_does_not(
    catalog: Any, manifest: Path, write_contract: Callable[..., Path], floe: Callable[..., Any]
) -> None:
    path = contract_file(write_contract)  # its table does not exist: every probe fails

    def message(*options: str) -> str:
        result = floe(
            "sla", "check", path, "--manifest", manifest, "--check", "availability",
            "--format", "json", *options,
        )  # fmt: skip
        assert result.exit_code == 1, result.stdout + result.stderr
        [violation] = json.loads(result.stdout)["violations"]
        return str(violation["message"])

    assert "(1 of 1 probes failed)" in message()
    assert "(2 of 2 probes failed)" in message()
    for _ in range(2):
        assert "(1 of 1 probes failed)" in message("--no-persist")
    assert "(3 of 3 probes failed)" in message()


def fail_probe_reads(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    if statement.lstrip().upper().startswith("SELECT") and PROBE_READ in statement:
        raise OperationalError(statement, None, OSError("could not receive data from server"))


def test_a_database_that_fails_the_seed_read_degrades_without_failing_the_check(
    lake: Any, state_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    contract = lake.contract([lake.availability(99, "%")])

    async def count(engine: AsyncEngine) -> int:
        async with engine.connect() as conn:
            query = select(func.count()).select_from(ContractCheckResult)
            return int((await conn.execute(query)).scalar_one())

    async def scenario() -> None:
        lake.down()
        await one_process(lake, state_url, contract)  # a persisted failure

        lake.up()
        engine = await open_state(state_url, auto_upgrade=False)
        try:
            monitor = lake.monitor(contract, state=StateStore(engine))
            event.listen(engine.sync_engine, "before_cursor_execute", fail_probe_reads)
            lake.clock.advance(timedelta(minutes=5))
            [result] = await monitor.check("orders", AVAILABILITY)
            event.remove(engine.sync_engine, "before_cursor_execute", fail_probe_reads)

            assert result.status is CheckStatus.PASS  # judged on this process's probe alone
            assert window(result) == (1, 0, 0)
            assert monitor.health().state is HealthState.DEGRADED
            assert monitor.persist_failures == 1  # one failed run, one failure
            assert monitor.persist_error is not None
            assert "could not read the history of contract orders" in monitor.persist_error
            assert "could not receive data from server" in monitor.persist_error
            assert await count(engine) == 1  # this run was not persisted

            lake.clock.advance(timedelta(minutes=5))
            [again] = await monitor.check("orders", AVAILABILITY)  # the database is back
            assert window(again) == (2, 0, 0)  # the in-memory window goes on
            assert monitor.health().state is HealthState.HEALTHY
            assert await count(engine) == 2
        finally:
            await engine.dispose()

    with caplog.at_level(logging.INFO, logger="floe_core"):
        asyncio.run(scenario())
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == MONITOR_LOG and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1
    assert "reachable again" in caplog.text


def test_an_unreachable_database_leaves_the_in_memory_window(
    lake: Any, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    contract = lake.contract([lake.availability(99, "%")])

    async def scenario() -> list[CheckResult]:
        engine = create_async_engine(f"postgresql+psycopg://floe@127.0.0.1:{closed_port}/floe")
        try:
            monitor = lake.monitor(contract, state=StateStore(engine))
            results = []
            for _ in range(3):
                lake.clock.advance(timedelta(minutes=5))
                results.extend(await monitor.check("orders", AVAILABILITY))
            assert monitor.persist_failures == 3  # once per run, not once per read
            assert monitor.health().state is HealthState.DEGRADED
            return results
        finally:
            await engine.dispose()

    with caplog.at_level(logging.DEBUG, logger="floe_core"):
        results = asyncio.run(scenario())
    assert [r.status for r in results] == [CheckStatus.PASS] * 3
    assert [window(r) for r in results] == [(1, 0, 0), (2, 0, 0), (3, 0, 0)]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == MONITOR_LOG and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1
    assert "could not read the history of contract orders" in warnings[0]


class SlowProbeReads(StateStore):
    """A real store whose probe reads take longer than a check may (a database overloaded)."""

    async def probe_history(self, contract_name: str, since: Any) -> Any:
        await asyncio.sleep(1.5)
        return await super().probe_history(contract_name, since)


def test_a_slow_seed_read_costs_the_availability_check_none_of_its_own_time(
    lake: Any, sqlite_state_url: str
) -> None:
    """The check starts once the stored probes are in, or their read has timed out: its
    check_timeout_seconds is its own, not shared with the database's answer."""
    from floe_core.config import MonitoringConfig

    contract = lake.contract([lake.availability(99, "%")])

    async def scenario() -> tuple[CheckResult, Any]:
        engine = await open_state(sqlite_state_url, auto_upgrade=True)
        try:
            monitor = lake.monitor(
                contract,
                state=SlowProbeReads(engine),
                config=MonitoringConfig(check_timeout_seconds=1),
            )
            [result] = await monitor.check("orders", AVAILABILITY)
            return result, monitor.persist_error
        finally:
            await engine.dispose()

    result, problem = asyncio.run(scenario())
    assert result.status is CheckStatus.PASS, result.details  # not a timeout
    assert window(result) == (1, 0, 0)
    assert problem is not None
    assert "could not read the history of contract orders" in problem
