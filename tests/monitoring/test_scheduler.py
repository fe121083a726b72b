"""The scheduler in-process, on a real SQLite-backed Iceberg catalog and a real state
database (SQLite and PostgreSQL): every registered contract's applicable checks run at
their intervals, registrations from elsewhere take effect, and stopping is clean."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType
from sqlalchemy.engine import make_url

from floe_core.config import MonitoringConfig
from floe_core.errors import InputError
from floe_core.events import CheckResult, CheckStatus, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.state.engine import open_state
from floe_core.state.schedule import (
    Finished,
    MonitorConflictError,
    ScheduleStore,
    following,
    next_slot,
    phase,
)
from floe_core.state.store import StateStore
from floe_core.testing.iceberg import catalog_config, create_table
from floe_core.testing.receiver import free_port
from tests._factories import ORDERS_PROPERTIES, odcs, table_object

FAST = MonitoringConfig.model_validate(
    {
        "check_timeout_seconds": 10,
        "check_intervals": {
            "freshness_minutes": 0.01,  # 0.6 s
            "schema_drift_minutes": 0.01,
            "quality_minutes": 0.01,
            "availability_minutes": 0.01,
        },
    }
)
SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "updated_at", TimestamptzType()),
)


def contract(name: str, table: str = "sales.orders") -> dict[str, Any]:
    """Freshness, schema and availability to check; no quality rules, no lifecycle."""
    return odcs(
        table_object(table, ORDERS_PROPERTIES),
        name=name,
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": "orders.updated_at"}],
    )


@pytest.fixture
def lake(catalog: Any) -> Any:
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    now = datetime.now(UTC)
    table.append(
        pa.table({"id": [1, 2], "updated_at": [now, now]}, schema=table.schema().as_arrow())
    )
    return catalog


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


def test_next_slot_is_stable_and_strictly_after() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    fraction = phase("orders", "freshness")
    assert fraction == phase("orders", "freshness")
    slot = next_slot(now, 60.0, fraction)
    assert now < slot <= now.replace(minute=1)
    assert next_slot(slot, 60.0, fraction) == slot.replace(minute=slot.minute + 1)
    assert phase("orders", "quality") != fraction


def test_a_late_run_stands_for_the_slot_it_missed() -> None:
    """An overdue row run at an arbitrary moment does not make its next slot come at once."""
    fraction = phase("orders", "freshness")
    due = next_slot(datetime(2026, 1, 1, 12, tzinfo=UTC), 60.0, fraction)
    on_time = following(due, due + timedelta(milliseconds=50), 60.0, fraction)
    assert on_time == due + timedelta(seconds=60)
    # An hour late, 5 s before one of its slots: the next run is the slot after that one.
    late = due + timedelta(minutes=59, seconds=55)
    assert following(due, late, 60.0, fraction) == due + timedelta(minutes=61)


def test_start_needs_a_state_database() -> None:
    with pytest.raises(InputError, match="no state database"):
        asyncio.run(ContractMonitor().start())


def test_registered_contracts_run_at_their_intervals(
    lake: Any, warehouse: Path, write_contract: Callable[..., Path], state_url: str
) -> None:
    async def scenario() -> None:
        engine = await open_state(state_url, auto_upgrade=True)
        store = StateStore(engine)
        spec = PluginSpec(type="sql", config=catalog_config(warehouse))
        # Registered "from another shell": straight into the state database.
        other = ContractMonitor(FAST, catalog=spec)
        await store.register_contract(other.register(write_contract(contract("orders"))))

        monitor = ContractMonitor(FAST, catalog=spec, state=store)
        scheduler = await monitor.start(
            tick_seconds=0.05, refresh_seconds=0.2, first_run_within=0.3
        )
        try:

            async def ran(name: str, types: set[str], runs: int) -> bool:
                since = datetime(2000, 1, 1, tzinfo=UTC)
                results = await store.recent_results(name, since)
                seen = [r.check_type.value for r in results]
                return all(seen.count(t) >= runs for t in types)

            expected = {"freshness", "schema_drift", "availability"}
            await eventually(lambda: ran("orders", expected, 2))
            results = await store.recent_results("orders", datetime(2000, 1, 1, tzinfo=UTC))
            # Nothing to check, nothing scheduled: no quality rules, no lifecycle.
            assert {r.check_type.value for r in results} == expected
            assert all(r.status.value == "pass" for r in results)

            # A contract registered while the monitor runs is picked up without a restart.
            await store.register_contract(other.register(write_contract(contract("late"))))
            await eventually(lambda: ran("late", expected, 1))

            # Unregistered: its rows leave the schedule.
            await store.unregister_contract("late")
            schedule = ScheduleStore(engine, "observer")
            await eventually(lambda: _names_are(schedule, {"orders"}))

            status = await scheduler.status()
            assert status["registered_contracts"] == 1
            assert status["mode"] == "scheduled"
            assert status["checks"]["scheduled"] == 3
            assert set(status["last_success"]) == expected
            assert status["degraded"] == []
            assert scheduler.liveness() == (True, "ok")
        finally:
            await monitor.stop(grace=5)
        # Stopped cleanly: no lease left behind, no replica recorded.
        assert (await ScheduleStore(engine, "observer").counts(datetime.now(UTC)))["leased"] == 0
        assert await ScheduleStore(engine, "observer").replicas() == 0
        await engine.dispose()

    asyncio.run(scenario())


async def _names_are(schedule: ScheduleStore, names: set[str]) -> bool:
    return await schedule.scheduled_names() == names


def test_a_second_monitor_on_sqlite_refuses_to_start(
    lake: Any, warehouse: Path, tmp_path: Path
) -> None:
    async def scenario() -> None:
        engine = await open_state(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", auto_upgrade=True)
        spec = PluginSpec(type="sql", config=catalog_config(warehouse))
        first = ContractMonitor(FAST, catalog=spec, state=StateStore(engine))
        await first.start(tick_seconds=0.05, refresh_seconds=0.2)
        try:
            second = ContractMonitor(FAST, catalog=spec, state=StateStore(engine))
            with pytest.raises(MonitorConflictError, match="another floe monitor already runs"):
                await second.start()
        finally:
            await first.stop(grace=1)
        # Once the first one stopped, another may start.
        third = ContractMonitor(FAST, catalog=spec, state=StateStore(engine))
        async with third:
            pass
        await engine.dispose()

    asyncio.run(scenario())


class SlowFreshness(Check):
    """A freshness check that takes longer than its interval, counting overlapping runs."""

    check_type = ViolationType.FRESHNESS

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = 0
        self.most_at_once = 0
        self.runs = 0
        self.lock = threading.Lock()

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        with self.lock:
            self.running += 1
            self.runs += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        return CheckOutcome(CheckStatus.PASS, {})


class Recorder:
    """Metrics as the scheduler reports them."""

    def __init__(self) -> None:
        self.overruns: list[str] = []
        self.lags: list[float] = []
        self.checks: list[CheckResult] = []

    def check_finished(self, result: CheckResult, violations: Any) -> None:
        self.checks.append(result)

    def overrun(self, check_type: str) -> None:
        self.overruns.append(check_type)

    def schedule_lag(self, seconds: float) -> None:
        self.lags.append(seconds)

    def alert_delivered(self, channel: str, status: str) -> None:
        pass


async def slow_monitor(
    tmp_path: Path,
    warehouse: Path,
    write_contract: Callable[..., Path],
    slow: SlowFreshness,
    config: MonitoringConfig = FAST,
) -> tuple[ContractMonitor, StateStore]:
    """A monitor on SQLite whose one check is ``slow``, with contract ``orders`` registered."""
    engine = await open_state(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", auto_upgrade=True)
    store = StateStore(engine)
    spec = PluginSpec(type="sql", config=catalog_config(warehouse))
    monitor = ContractMonitor(config, catalog=spec, state=store, checks={slow.check_type: slow})
    await store.register_contract(monitor.register(write_contract(contract("orders"))))
    return monitor, store


def test_an_overrun_skips_the_missed_run_and_never_overlaps(
    lake: Any, warehouse: Path, write_contract: Callable[..., Path], tmp_path: Path
) -> None:
    async def scenario() -> None:
        slow = SlowFreshness(1.0)
        config = FAST.model_copy(
            update={"check_intervals": FAST.check_intervals.model_copy(
                update={"freshness_minutes": 0.005}  # every 0.3 s, each run takes 1 s
            )}
        )  # fmt: skip
        monitor, store = await slow_monitor(tmp_path, warehouse, write_contract, slow, config)
        metrics = Recorder()
        scheduler = await monitor.start(
            metrics=metrics, tick_seconds=0.05, refresh_seconds=0.2, first_run_within=0.1
        )
        await asyncio.sleep(3.5)
        await monitor.stop(grace=5)
        assert slow.most_at_once == 1
        assert 2 <= slow.runs <= 4
        assert metrics.overruns
        assert set(metrics.overruns) == {"freshness"}
        assert scheduler.stats.overruns == len(metrics.overruns)
        assert len(metrics.lags) == slow.runs
        assert all(r.check_type is ViolationType.FRESHNESS for r in metrics.checks)
        await store.engine.dispose()

    asyncio.run(scenario())


def test_stop_cancels_what_outlasts_the_grace_and_records_it_as_an_error(
    lake: Any, warehouse: Path, write_contract: Callable[..., Path], tmp_path: Path
) -> None:
    async def scenario() -> None:
        slow = SlowFreshness(5.0)
        monitor, store = await slow_monitor(tmp_path, warehouse, write_contract, slow)
        engine = store.engine
        await monitor.start(tick_seconds=0.05, refresh_seconds=0.2, first_run_within=0.1)
        await eventually(lambda: _true(slow.running == 1))
        started = time.monotonic()
        await monitor.stop(grace=0.5)
        assert time.monotonic() - started < 3
        [result] = await store.recent_results("orders", datetime(2000, 1, 1, tzinfo=UTC))
        assert result.status is CheckStatus.ERROR
        assert result.details["reason"] == "cancelled"
        assert (await ScheduleStore(engine, "observer").counts(datetime.now(UTC)))["leased"] == 0
        await engine.dispose()

    asyncio.run(scenario())


async def _true(value: bool) -> bool:
    return value


class TcpProxy:
    """A TCP forwarder to PostgreSQL that the test can cut and restore: the database
    "going away" for the monitor, with the real server untouched."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.pipes):
            writer.close()
        self.pipes.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.pipes |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


def test_a_replica_that_loses_the_database_keeps_its_checks_running(
    lake: Any,
    warehouse: Path,
    write_contract: Callable[..., Path],
    new_postgres_database: Callable[[], str],
) -> None:
    """Degraded: the rows it held keep running on their slots, /readyz says why; when the
    database answers again it is ready again and the shared schedule rules."""
    url = make_url(new_postgres_database())

    async def scenario() -> None:
        proxy = TcpProxy(url.port or 5432)
        await proxy.start()
        through = url.set(port=proxy.port).render_as_string(hide_password=False)
        engine = await open_state(through, auto_upgrade=True)
        store = StateStore(engine)
        spec = PluginSpec(type="sql", config=catalog_config(warehouse))
        monitor = ContractMonitor(FAST, catalog=spec, state=store)
        await store.register_contract(monitor.register(write_contract(contract("orders"))))
        metrics = Recorder()
        scheduler = await monitor.start(
            metrics=metrics, tick_seconds=0.05, refresh_seconds=0.2, first_run_within=0.3
        )
        try:
            await eventually(lambda: _true(len(metrics.checks) >= 3))
            await proxy.cut()
            cut_at = len(metrics.checks)
            await eventually(lambda: _true(not scheduler.readiness()[0]))
            _, reasons = scheduler.readiness()
            assert any("failed" in reason for reason in reasons), reasons
            # Still checking, from what it held, without the database.
            await eventually(lambda: _true(len(metrics.checks) >= cut_at + 3))
            assert {r.check_type.value for r in metrics.checks[cut_at:]} <= {
                "freshness",
                "schema_drift",
                "availability",
            }
            await proxy.start()
            await eventually(lambda: _true(scheduler.readiness()[0]), timeout=30)
        finally:
            await monitor.stop(grace=5)
            await engine.dispose()
            await proxy.cut()

    asyncio.run(scenario())


def test_a_changed_interval_moves_rows_onto_their_slots_not_all_at_once(tmp_path: Path) -> None:
    """New rows come due within ``first_within``; a changed interval keeps rows spread."""

    async def scenario() -> None:
        engine = await open_state(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", auto_upgrade=True)
        schedule = ScheduleStore(engine, "me")
        now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        names = [f"c{i}" for i in range(50)]
        await schedule.plan({n: {"freshness": 3600.0} for n in names}, now, 60.0)
        first = await schedule.claim(now + timedelta(seconds=61), 100, timedelta(seconds=1))
        assert len(first) == 50  # every new row's first run within the minute
        await schedule.finish([Finished(d, "pass", now + timedelta(seconds=61)) for d in first])
        await schedule.plan({n: {"freshness": 600.0} for n in names}, now, 60.0)
        due = await schedule.claim(now + timedelta(seconds=61), 100, timedelta(seconds=1))
        assert len(due) < 15  # about a tenth of the new 10-minute interval, not all 50
        for d in due:
            assert d.due_at == next_slot(now, 600.0, phase(d.contract_name, "freshness"))
        await engine.dispose()

    asyncio.run(scenario())


def test_a_table_that_disappears_is_an_availability_violation_and_stays_scheduled(
    lake: Any, warehouse: Path, write_contract: Callable[..., Path], tmp_path: Path
) -> None:
    async def scenario() -> None:
        engine = await open_state(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", auto_upgrade=True)
        store = StateStore(engine)
        spec = PluginSpec(type="sql", config=catalog_config(warehouse))
        monitor = ContractMonitor(FAST, catalog=spec, state=store)
        await store.register_contract(monitor.register(write_contract(contract("orders"))))
        metrics = Recorder()
        await monitor.start(
            metrics=metrics, tick_seconds=0.05, refresh_seconds=0.2, first_run_within=0.3
        )
        try:
            await eventually(lambda: _true(len(metrics.checks) >= 3))
            lake.drop_table("sales.orders")
            gone_at = len(metrics.checks)

            def failing(check_type: str) -> int:
                return sum(
                    r.check_type.value == check_type and r.status is CheckStatus.FAIL
                    for r in metrics.checks[gone_at:]
                )

            await eventually(lambda: _true(failing("availability") >= 2))
            schedule = ScheduleStore(engine, "observer")
            assert (await schedule.counts(datetime.now(UTC)))["scheduled"] == 3
        finally:
            await monitor.stop(grace=5)
            await engine.dispose()

    asyncio.run(scenario())
