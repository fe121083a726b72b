"""The long-running monitor at scale: ``floe sla monitor`` as a real process.

The workload (defaults; ``--quick`` takes 1,000 contracts and 2 minutes): 10,000 registered
contracts over 100 tables of a local SQLite-backed Iceberg catalog (100 contracts a table),
each with a freshness SLA, its properties (schema drift), one quality rule and availability:
at the default intervals (5, 15, 60 and 360 minutes) about 48 checks a second. The state is
a PostgreSQL database of its own (``floe_bench_monitor``, dropped and created again).

The schedule is planned before the monitor starts, as a restarted production monitor finds
it (every row on its slot); a first start on 10,000 new contracts instead runs each one's
first checks within a minute, a burst the steady state below does not include.

1. **Steady state** for ``minutes``: checks per second, schedule lag p50/p99 (a run's start
   minus its due time, from the monitor's JSON log lines), CPU of the monitor and its DuckDB
   worker (from /proc, over the window) and their peak RSS (VmHWM).
2. **Headroom**: every interval divided by 2, 4, 8, ... (a minute each after a short
   warm-up): the highest check rate whose p99 lag stays under 1 s.
3. **Two replicas** on the same database and load: (contract, check type, due time) run
   twice (must be 0), then one is killed with SIGKILL and the time until the survivor has
   taken over every row the dead one held is measured (within two lease periods).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _history import _database_url, _drop_database, _recreate_database
from _report import Row, Section

DATABASE = "floe_bench_monitor"
LAG_P99_TARGET_S = 1.0
CPU_TARGET_CORES = 1.0
RSS_TARGET_MB = 500.0
DEFAULT_INTERVALS = {
    "freshness_minutes": 15,
    "schema_drift_minutes": 60,
    "quality_minutes": 360,
    "availability_minutes": 5,
}
FLOE = str(Path(sys.executable).parent / "floe")
CLK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class MonitorConfig:
    contracts: int
    tables: int
    minutes: float
    headroom_steps: tuple[float, ...]
    headroom_seconds: float
    replicas_minutes: float
    server: str
    failing_every: int = 0  # every n-th contract's freshness SLA is 1 s: it fails every run


def run_monitor(config: MonitorConfig) -> Section:
    section = Section("monitor")
    state = _database_url(config.server, DATABASE, async_driver=True)
    with tempfile.TemporaryDirectory(prefix="floe-bench-monitor-") as tmp:
        work = Path(tmp)
        print(f"  building {config.tables} tables and {config.contracts:,} contracts ...")
        manifest = _lake(work, config.tables)
        _recreate_database(config.server, DATABASE)
        try:
            env = {**os.environ, "FLOE_STATE_URL": state}
            _floe(env, work, "sla", "db", "upgrade")
            asyncio.run(_register(state, work, manifest, config))
            steady = _steady(section, work, manifest, env, config)
            _headroom(section, work, manifest, env, config, state, steady)
            _replicas(section, work, manifest, env, config, state)
        finally:
            _drop_database(config.server, DATABASE)
    return section


# The lake and the registered contracts ----------------------------------------------------


def _lake(work: Path, tables: int) -> Path:
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField, StringType, TimestamptzType

    from floe_core.testing.iceberg import catalog_config, create_table, local_catalog

    warehouse = work / "lake"
    catalog = local_catalog(warehouse)
    schema = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "updated_at", TimestamptzType()),
        NestedField(3, "status", StringType()),
    )
    now = datetime.now(UTC)
    for index in range(tables):
        identifier = f"bench.t{index:03d}"
        create_table(catalog, identifier, schema)
        table = catalog.load_table(identifier)
        rows = {"id": list(range(100)), "updated_at": [now] * 100, "status": ["ok"] * 100}
        table.append(pa.table(rows, schema=table.schema().as_arrow()))
    manifest = work / "manifest.yaml"
    _write_manifest(manifest, catalog_config(warehouse), DEFAULT_INTERVALS)
    return manifest


def _write_manifest(path: Path, catalog: dict[str, Any], intervals: dict[str, float]) -> None:
    import yaml

    doc = {
        "apiVersion": "floe.dev/v1",
        "kind": "Manifest",
        "plugins": {"catalog": {"type": "sql", "config": catalog}},
        "data_contracts": {"monitoring": {"check_intervals": intervals}},
    }
    path.write_text(yaml.safe_dump(doc))


def _contract(index: int, tables: int, failing_every: int = 0) -> dict[str, Any]:
    table = f"bench.t{index % tables:03d}"
    name = f"c{index:05d}"
    latency = (1, "s") if failing_every and index % failing_every == 0 else (1, "d")
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"{name}-contract",
        "name": name,
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": name,
                "physicalName": table,
                "physicalType": "table",
                "properties": [
                    {"name": "id", "logicalType": "integer", "required": True,
                     "quality": [{"metric": "nullValues", "mustBe": 0}]},
                    {"name": "updated_at", "logicalType": "timestamp"},
                    {"name": "status", "logicalType": "string"},
                ],
            }
        ],
        "slaProperties": [
            {"property": "latency", "value": latency[0], "unit": latency[1],
             "element": f"{name}.updated_at"}
        ],
    }  # fmt: skip


async def _register(state: str, work: Path, manifest: Path, config: MonitorConfig) -> None:
    """Register every contract and plan the schedule on its slots, as a running fleet has it."""
    from floe_core.contracts.model import DataContract
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.monitoring.scheduler import Scheduler
    from floe_core.state.engine import open_state
    from floe_core.state.store import StateStore

    engine = await open_state(state, auto_upgrade=False)
    store = StateStore(engine)
    monitor = ContractMonitor.from_manifest(manifest, state=store)
    scheduler = Scheduler(monitor, store, first_run_within=None)
    semaphore = asyncio.Semaphore(16)
    wanted: dict[str, dict[str, float]] = {}

    async def one(index: int) -> None:
        registered = monitor.register(
            DataContract.model_validate(_contract(index, config.tables, config.failing_every))
        )
        wanted[registered.contract_name] = scheduler.intervals(registered)
        async with semaphore:
            await store.register_contract(registered)

    await asyncio.gather(*(one(i) for i in range(config.contracts)))
    names = sorted(wanted)
    now = datetime.now(UTC)
    for start in range(0, len(names), 500):
        batch = {n: wanted[n] for n in names[start : start + 500]}
        await scheduler.schedule.plan(batch, now, None)
    await engine.dispose()


# Running monitors ---------------------------------------------------------------------------


class Monitor:
    """A ``floe sla monitor`` process writing JSON log lines to a file."""

    def __init__(self, work: Path, manifest: Path, env: dict[str, str], name: str) -> None:
        self.log = work / f"{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [FLOE, "sla", "monitor", "--manifest", str(manifest), "--port", "0",
                 "--log-format", "json"],
                cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        self._offset = 0

    def runs(self, since: float | None = None) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            if '"floe.check.status"' not in line:
                continue
            record = json.loads(line)
            record["at"] = datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()
            if since is None or record["at"] >= since:
                out.append(record)
        return out

    def replica(self) -> str | None:
        for line in self.log.read_text().splitlines():
            if "started in" in line:
                return str(json.loads(line)["message"].split()[1])
        return None

    def cpu_seconds(self) -> float:
        """CPU seconds of the monitor and its children (the DuckDB worker), from /proc."""
        return sum(_proc_cpu(pid) for pid in _tree(self.process.pid))

    def peak_rss_mb(self) -> dict[str, float]:
        return {str(pid): _proc_hwm(pid) for pid in _tree(self.process.pid)}

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def _steady(
    section: Section, work: Path, manifest: Path, env: dict[str, str], config: MonitorConfig
) -> dict[str, Any]:
    print(f"  steady state: {config.minutes:g} minutes at the default intervals ...", flush=True)
    monitor = Monitor(work, manifest, env, "steady")
    try:
        time.sleep(20)  # start-up: the registered set read, the DuckDB worker up
        started, cpu_before = time.time(), monitor.cpu_seconds()
        time.sleep(config.minutes * 60)
        elapsed, cpu = time.time() - started, monitor.cpu_seconds() - cpu_before
        runs = monitor.runs(since=started)
        rss = monitor.peak_rss_mb()
    finally:
        code = monitor.stop()
    figures = _figures(runs, elapsed)
    figures.update(
        cpu_cores=round(cpu / elapsed, 3),
        peak_rss_mb=rss,
        exit_status=code,
        contracts=config.contracts,
        tables=config.tables,
    )
    section.figures["steady"] = figures
    lag_ok = figures["lag_p99_s"] < LAG_P99_TARGET_S
    cpu_ok = figures["cpu_cores"] < CPU_TARGET_CORES
    rss_ok = max(rss.values(), default=0) < RSS_TARGET_MB
    section.rows += [
        Row(
            "monitor: steady state",
            f"{config.contracts:,} contracts / {config.tables} tables, default intervals, "
            f"{config.minutes:g} min",
            f"{figures['checks_per_s']:.1f} checks/s; lag p50 {figures['lag_p50_s'] * 1000:.0f} "
            f"ms, p99 {figures['lag_p99_s'] * 1000:.0f} ms",
            target=f"p99 < {LAG_P99_TARGET_S:g} s",
            met=lag_ok,
        ),
        Row(
            "monitor: resources",
            "monitor + DuckDB worker",
            f"CPU {figures['cpu_cores']:.2f} cores avg; peak RSS "
            + ", ".join(f"{v:.0f} MB" for v in rss.values()),
            target=f"< {CPU_TARGET_CORES:g} core, < {RSS_TARGET_MB:g} MB",
            met=cpu_ok and rss_ok,
        ),
    ]
    if code != 0:
        section.errors.append(f"the monitor exited {code} on SIGTERM")
    return figures


def _headroom(
    section: Section,
    work: Path,
    manifest: Path,
    env: dict[str, str],
    config: MonitorConfig,
    state: str,
    steady: dict[str, Any],
) -> None:
    import yaml

    catalog = yaml.safe_load(manifest.read_text())["plugins"]["catalog"]["config"]
    steps = []
    best = (steady["checks_per_s"], 1) if steady["lag_p99_s"] < LAG_P99_TARGET_S else None
    for factor in config.headroom_steps:
        faster = work / f"manifest-x{factor:g}.yaml"
        _write_manifest(faster, catalog, {k: v / factor for k, v in DEFAULT_INTERVALS.items()})
        print(f"  headroom: intervals / {factor:g} ...", flush=True)
        monitor = Monitor(work, faster, env, f"headroom-{factor:g}")
        try:
            time.sleep(20)  # start-up: the rows move onto the new intervals' slots
            started, cpu_before = time.time(), monitor.cpu_seconds()
            time.sleep(config.headroom_seconds)
            elapsed, cpu = time.time() - started, monitor.cpu_seconds() - cpu_before
            runs = monitor.runs(since=started)
        finally:
            monitor.stop()
        figures = _figures(runs, elapsed)
        figures.update(factor=factor, cpu_cores=round(cpu / elapsed, 3))
        steps.append(figures)
        print(
            f"    {figures['checks_per_s']:.0f} checks/s, lag p99 "
            f"{figures['lag_p99_s'] * 1000:.0f} ms, CPU {figures['cpu_cores']:.2f}",
            flush=True,
        )
        if figures["lag_p99_s"] < LAG_P99_TARGET_S:
            best = (figures["checks_per_s"], factor)
        else:
            break
    section.figures["headroom"] = steps
    shown = "; ".join(
        f"/{s['factor']:g}: {s['checks_per_s']:.0f}/s p99 {s['lag_p99_s'] * 1000:.0f} ms"
        for s in steps
    )
    section.rows.append(
        Row(
            "monitor: headroom",
            "intervals shrunk step by step",
            f"highest rate with p99 lag < 1 s: {best[0]:.0f} checks/s ({shown})"
            if best
            else f"none ({shown})",
            ratio=f"{best[0] / steady['checks_per_s']:.1f}x the default load" if best else "",
        )
    )


def _replicas(
    section: Section,
    work: Path,
    manifest: Path,
    env: dict[str, str],
    config: MonitorConfig,
    state: str,
) -> None:
    print(f"  two replicas: {config.replicas_minutes:g} minutes, then SIGKILL one ...", flush=True)
    one = Monitor(work, manifest, env, "replica-1")
    two = Monitor(work, manifest, env, "replica-2")
    try:
        time.sleep(config.replicas_minutes * 60)
        dead = one.replica()
        held_before = asyncio.run(_held(state, dead))
        one.process.kill()
        one.process.wait(30)
        killed = time.time()
        taken_over = None
        while time.time() - killed < 300:
            if asyncio.run(_held(state, dead)) == 0:
                taken_over = time.time() - killed
                break
            time.sleep(0.5)
        time.sleep(5)
    finally:
        if one.process.poll() is None:
            one.stop()
        two.stop()
    runs = one.runs() + two.runs()
    keys = Counter(
        (r["floe.contract.name"], r["floe.check.type"], r["floe.check.due_at"]) for r in runs
    )
    twice = sum(1 for count in keys.values() if count > 1)
    lease = 2 * 30 + 5
    figures = {
        "runs": len(runs),
        "runs_by_replica": [len(one.runs()), len(two.runs())],
        "run_twice": twice,
        "rows_held_by_the_killed_replica": held_before,
        "takeover_s": taken_over,
        "lease_s": lease,
    }
    section.figures["replicas"] = figures
    section.rows += [
        Row(
            "monitor: two replicas",
            f"{config.contracts:,} contracts, {config.replicas_minutes:g} min, one PostgreSQL",
            f"{len(runs):,} runs ({figures['runs_by_replica'][0]:,} + "
            f"{figures['runs_by_replica'][1]:,}); run twice: {twice}",
            target="0 double runs",
            met=twice == 0,
        ),
        Row(
            "monitor: takeover",
            f"SIGKILL one replica ({held_before} rows leased to it)",
            f"survivor holds all its rows after {taken_over:.1f} s"
            if taken_over is not None
            else "not taken over within 300 s",
            target=f"< 2 lease periods ({2 * lease} s)",
            met=taken_over is not None and taken_over < 2 * lease,
        ),
    ]
    if twice:
        section.errors.append(f"{twice} (contract, check type, due time) ran twice")


async def _held(state: str, replica: str | None) -> int:
    """Rows ``replica`` still stands in the way of: a lease of its that has not expired, or
    one that has and whose row is due but not yet claimed by another replica."""
    from sqlalchemy import func, select

    from floe_core.state.engine import open_state
    from floe_core.state.models import MonitorSchedule, table_of

    if replica is None:
        return -1
    engine = await open_state(state, auto_upgrade=False)
    try:
        table = table_of(MonitorSchedule)
        async with engine.connect() as conn:
            now = datetime.now(UTC)
            stmt = select(func.count()).where(
                table.c.lease_owner == replica,
                (table.c.lease_expires_at > now) | (table.c.next_due_at <= now),
            )
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


# Figures ------------------------------------------------------------------------------------


def _figures(runs: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
    lags = sorted(r["floe.check.lag_ms"] / 1000 for r in runs)
    by_type = Counter(r["floe.check.type"] for r in runs)
    by_status = Counter(r["floe.check.status"] for r in runs)
    return {
        "checks": len(runs),
        "seconds": round(elapsed, 1),
        "checks_per_s": len(runs) / elapsed if elapsed else 0.0,
        "lag_p50_s": _quantile(lags, 0.50),
        "lag_p99_s": _quantile(lags, 0.99),
        "lag_max_s": lags[-1] if lags else 0.0,
        "by_type": dict(by_type),
        "by_status": dict(by_status),
        "mean_duration_ms": statistics.fmean(r["floe.check.duration_ms"] for r in runs)
        if runs
        else 0.0,
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("inf")
    return values[min(len(values) - 1, int(q * len(values)))]


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return found


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def _proc_hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _floe(env: dict[str, str], cwd: Path, *args: str) -> None:
    subprocess.run([FLOE, *args], cwd=cwd, env=env, check=True, capture_output=True)
