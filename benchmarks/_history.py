"""The monitoring state at scale: write throughput, reports over ~12M check results, purge.

1,000 contracts with 30 days of history at the default check intervals (freshness 15 min,
schema drift 60 min, quality 6 h, availability 5 min: 412 results a contract a day) are
generated inside PostgreSQL with ``generate_series`` (2% failures, each with a violation;
0.5% errors; quality scores and availability probes in ``details``), into a database of its
own (``floe_bench_history``), kept between runs and regenerated when the shape changes. The
history ends half a day into its "today" (the anchor), so reports read both daily aggregates
and raw rows. Then, in one run:

- write throughput: ``StateStore.record_run`` (one transaction per run of four checks, as
  the monitor writes) on PostgreSQL and on SQLite;
- ``build_report`` over every contract for 30 days straight from the raw rows, then the
  roll-up of the 30 complete days (``apply_retention``), then the same report again from the
  daily aggregates (the target), and for one contract; both sources must agree exactly;
- ``floe sla report --format json`` as a whole process, for context;
- the purge of one day's expired rows (about 412,000 results and their violations), after
  which that day is generated again so that the cached database stays whole.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _report import Row, Section, Timings, ms

DATABASE = "floe_bench_history"
WRITES_DATABASE = "floe_bench_writes"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
#: check type -> interval in minutes (the defaults of CheckIntervalConfig).
INTERVALS = {"freshness": 15, "schema_drift": 60, "quality": 360, "availability": 5}
#: Bump when the generated data changes, so a cached database is regenerated.
SHAPE_VERSION = 1
REPORT_TARGET_S = 2.0
ONE_CONTRACT_TARGET_S = 0.2


@dataclass(frozen=True)
class HistoryConfig:
    """How much history, how often to time each report, and how many runs to write."""

    contracts: int
    days: int
    repeat: int
    write_runs: int
    server: str


def server_url() -> str:
    """The PostgreSQL server to use: $FLOE_BENCH_POSTGRES_URL, $FLOE_TEST_POSTGRES_URL or local."""
    return (
        os.environ.get("FLOE_BENCH_POSTGRES_URL")
        or os.environ.get("FLOE_TEST_POSTGRES_URL")
        or DEFAULT_SERVER
    )


def run_history(config: HistoryConfig) -> Section:
    section = Section("history")
    writes = asyncio.run(_write_throughput(config))
    section.figures["write_throughput"] = writes
    for backend, figures in writes.items():
        section.rows.append(
            Row(
                "state writes",
                f"{backend}, {config.write_runs} runs x 4 results",
                f"{figures['rows_per_s']:,.0f} check results/s "
                f"({figures['runs_per_s']:,.0f} runs/s, one transaction each)",
            )
        )
    anchor, generated = _ensure_history(config)
    section.figures["history"] = generated
    section.notes.append(
        f"history: {generated['check_results']:,} check results and "
        f"{generated['violations']:,} violations for {config.contracts:,} contracts, "
        f"{config.days} days to {anchor.isoformat()} 12:00 UTC"
        + (f" (generated in {generated['generate_s']:.0f} s)" if "generate_s" in generated else "")
    )
    url = _database_url(config.server, DATABASE, async_driver=True)
    asyncio.run(_reports(config, url, anchor, section))
    _cli_report(url, anchor, config, section)
    asyncio.run(_purge_one_day(config, url, anchor, section))
    return section


# Write throughput --------------------------------------------------------------------------


async def _write_throughput(config: HistoryConfig) -> dict[str, dict[str, float]]:
    from floe_core.state.engine import open_state
    from floe_core.state.store import StateStore

    results: dict[str, dict[str, float]] = {}
    from floe_core.state.engine import upgrade

    _recreate_database(config.server, WRITES_DATABASE)
    await upgrade(_database_url(config.server, WRITES_DATABASE, async_driver=True))
    with tempfile.TemporaryDirectory() as tmp:
        targets = {
            "PostgreSQL": _database_url(config.server, WRITES_DATABASE, async_driver=True),
            "SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'state.db'}",
        }
        for backend, url in targets.items():
            engine = await open_state(url, auto_upgrade=True)
            try:
                store = StateStore(engine)
                runs = [_one_run(f"contract_{i % 100:03d}", i) for i in range(config.write_runs)]
                await store.record_run(*runs[0])  # warm the pool and the statement caches
                started = time.perf_counter()
                for run in runs[1:]:
                    await store.record_run(*run)
                elapsed = time.perf_counter() - started
            finally:
                await engine.dispose()
            written = (len(runs) - 1) * len(INTERVALS)
            results[backend] = {
                "runs": len(runs) - 1,
                "rows": written,
                "seconds": elapsed,
                "rows_per_s": written / elapsed,
                "runs_per_s": (len(runs) - 1) / elapsed,
            }
    _drop_database(config.server, WRITES_DATABASE)
    return results


def _one_run(name: str, i: int) -> tuple[Any, ...]:
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.events import CheckResult, CheckStatus, ViolationType

    now = datetime.now(UTC)
    registered = RegisteredContract.model_construct(contract_name=name)
    results = [
        CheckResult(
            id=str(uuid.uuid4()),
            contract_name=name,
            check_type=ViolationType(kind),
            status=CheckStatus.PASS,
            duration_seconds=0.01,
            timestamp=now,
            details={"quality_score": 100.0} if kind == "quality" else {"run": i},
        )
        for kind in INTERVALS
    ]
    return registered, results, [], []


# Generated history -------------------------------------------------------------------------


def _ensure_history(config: HistoryConfig) -> tuple[date, dict[str, Any]]:
    """The anchor day of the cached history, generating it when missing or of another shape."""
    import psycopg

    shape = f"v{SHAPE_VERSION} contracts={config.contracts} days={config.days}"
    admin = _database_url(config.server, None, async_driver=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
    plain = _database_url(config.server, DATABASE, async_driver=False)
    if exists:
        with psycopg.connect(plain) as conn:
            found = (
                conn.execute("SELECT shape, anchor FROM floe_bench_meta").fetchone()
                if _has_meta(conn)
                else None
            )
        if found and found[0] == shape:
            return found[1], _counts(plain)
    print(f"  generating {config.contracts:,} contracts x {config.days} days ...", flush=True)
    started = time.monotonic()
    _recreate_database(config.server, DATABASE)
    _upgrade(_database_url(config.server, DATABASE, async_driver=True))
    anchor = datetime.now(UTC).date()
    first = anchor - timedelta(days=config.days)
    with psycopg.connect(plain, autocommit=True) as conn:
        _generate(conn, config.contracts, _midnight(first), _midnight(anchor) + timedelta(hours=12))
        conn.execute("VACUUM ANALYZE")
        conn.execute("CREATE TABLE floe_bench_meta (shape TEXT, anchor DATE)")
        conn.execute("INSERT INTO floe_bench_meta VALUES (%s, %s)", (shape, anchor))
    counts = _counts(plain)
    counts["generate_s"] = time.monotonic() - started
    return anchor, counts


def _has_meta(conn: Any) -> bool:
    return bool(conn.execute("SELECT to_regclass('floe_bench_meta') IS NOT NULL").fetchone()[0])


def _generate(conn: Any, contracts: int, start: datetime, end: datetime) -> None:
    """Check results of [start, end) for every contract, and a violation per failed run."""
    for kind, minutes in INTERVALS.items():
        details = {
            "quality": "jsonb_build_object('quality_score', 80 + (c + m) %% 21)",
            "availability": "jsonb_build_object('probe', jsonb_build_object('ok', NOT failed))",
        }.get(kind, "'{}'::jsonb")
        conn.execute(
            f"""
            INSERT INTO contract_check_results
                (id, contract_name, check_type, status, duration_seconds, checked_at,
                 details, created_at)
            SELECT gen_random_uuid(), 'contract_' || lpad(c::text, 4, '0'), %(kind)s,
                   CASE WHEN failed THEN 'fail' WHEN errored THEN 'error' ELSE 'pass' END,
                   0.01 + (m %% 7) / 100.0, ts, {details}, ts
            FROM generate_series(1, %(contracts)s) AS c,
                 generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 second',
                                 %(step)s::interval) AS ts,
                 LATERAL (SELECT (extract(epoch FROM ts)::bigint / 60) AS m) AS minute,
                 LATERAL (SELECT (c * 7919 + m) %% 50 = 0 AS failed,
                                 (c * 7919 + m) %% 200 = 1 AS errored) AS outcome
            """,
            {
                "kind": kind,
                "contracts": contracts,
                "start": start,
                "end": end,
                "step": f"{minutes} minutes",
            },
        )
    conn.execute(
        """
        INSERT INTO contract_violations
            (id, contract_name, contract_version, violation_type, severity, message,
             detected_at, check_result_id)
        SELECT gen_random_uuid(), contract_name, '1.0.0', check_type, 'error',
               check_type || ' breached (synthetic)', checked_at, id
        FROM contract_check_results
        WHERE status = 'fail' AND checked_at >= %(start)s AND checked_at < %(end)s
        """,
        {"start": start, "end": end},
    )


def _counts(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        results = conn.execute("SELECT count(*) FROM contract_check_results").fetchone()[0]
        violations = conn.execute("SELECT count(*) FROM contract_violations").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"check_results": results, "violations": violations, "database_bytes": size}


# Reports and purge -------------------------------------------------------------------------


async def _reports(config: HistoryConfig, url: str, anchor: date, section: Section) -> None:
    from floe_core.reporting.build import build_report
    from floe_core.state.engine import open_state
    from floe_core.state.retention import apply_retention
    from floe_core.state.store import StateStore

    now = _midnight(anchor) + timedelta(hours=12)
    since = anchor - timedelta(days=config.days - 1)
    one = "contract_0001"
    engine = await open_state(url, auto_upgrade=False)
    store = StateStore(engine)
    try:
        async with engine.begin() as conn:  # start from raw rows only
            from sqlalchemy import text

            await conn.execute(text("DELETE FROM contract_daily_aggregates"))

        async def report(contracts: str | None = None) -> Any:
            return await build_report(
                store, since=since, until=anchor, window="weekly", contracts=contracts, now=now
            )

        raw_t, [raw] = await _timed(report, 1)
        rollup_started = time.perf_counter()
        rolled = await apply_retention(engine, 90, now=now)
        rollup_s = time.perf_counter() - rollup_started
        all_t, reports = await _timed(report, config.repeat)
        one_t, _ = await _timed(lambda: report(one), config.repeat)
    finally:
        await engine.dispose()
    aggregated = reports[-1]
    if _comparable(aggregated) != _comparable(raw):
        section.errors.append("the report from daily aggregates differs from the raw-row report")
    rows = len(aggregated.rows)
    section.figures["report"] = {
        "all_contracts_raw_only": raw_t.as_dict(),
        "rollup_s": rollup_s,
        "rolled_up_days": len(rolled.rolled_up_days),
        "aggregate_rows": rolled.aggregate_rows,
        "all_contracts": all_t.as_dict(),
        "one_contract": one_t.as_dict(),
        "rows": rows,
        "aggregates_through": str(aggregated.aggregates_through),
    }
    section.rows += [
        Row(
            "report, all contracts",
            f"{config.contracts:,} contracts, {config.days} days, weekly: daily aggregates "
            "and today's raw rows",
            all_t.brief(),
            f"{raw_t.median / all_t.median:.0f}x faster than from raw rows only "
            f"({ms(raw_t.median)})",
            f"< {REPORT_TARGET_S:.0f} s",
            all_t.median < REPORT_TARGET_S,
        ),
        Row(
            "report, one contract",
            f"{one}, {config.days} days, weekly",
            one_t.brief(),
            "",
            f"< {ONE_CONTRACT_TARGET_S} s",
            one_t.median < ONE_CONTRACT_TARGET_S,
        ),
        Row(
            "daily roll-up",
            f"{len(rolled.rolled_up_days)} complete days -> {rolled.aggregate_rows:,} rows",
            f"{rollup_s:.1f} s (once; then one day a day)",
        ),
    ]


def _comparable(report: Any) -> Any:
    document = report.to_dict()
    return {k: v for k, v in document.items() if k not in {"aggregates_through", "generated_at"}}


def _cli_report(url: str, anchor: date, config: HistoryConfig, section: Section) -> None:
    floe = Path(sys.executable).parent / "floe"
    since = anchor - timedelta(days=config.days - 1)
    argv = [str(floe), "sla", "report", "--since", since.isoformat(), "--until",
            anchor.isoformat(), "--format", "json"]  # fmt: skip
    env = {**os.environ, "FLOE_STATE_URL": url}
    samples = []
    for _ in range(max(1, config.repeat // 2) + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            section.errors.append(f"floe sla report failed: {done.stderr.strip()[:300]}")
            return
    timings = Timings(tuple(samples[1:]))
    section.figures["cli_report"] = timings.as_dict()
    section.rows.append(
        Row(
            "floe sla report process",
            f"all contracts, --format json ({len(done.stdout) / 1e6:.1f} MB)",
            timings.brief(),
            "",
            "context: includes Python start-up and imports",
        )
    )


async def _purge_one_day(config: HistoryConfig, url: str, anchor: date, section: Section) -> None:
    import psycopg

    from floe_core.state.engine import open_state
    from floe_core.state.retention import apply_retention

    now = _midnight(anchor) + timedelta(hours=12)
    oldest = anchor - timedelta(days=config.days)
    engine = await open_state(url, auto_upgrade=False)
    try:
        started = time.perf_counter()
        purged = await apply_retention(engine, config.days - 1, now=now)
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    plain = _database_url(config.server, DATABASE, async_driver=False)
    with psycopg.connect(plain, autocommit=True) as conn:  # put the day back for the next run
        _generate(conn, config.contracts, _midnight(oldest), _midnight(oldest + timedelta(days=1)))
    section.figures["purge_one_day"] = {
        "seconds": elapsed,
        "days": [str(d) for d in purged.purged_days],
        "deleted_check_results": purged.deleted_results,
        "deleted_violations": purged.deleted_violations,
    }
    section.rows.append(
        Row(
            "purge one expired day",
            f"{purged.deleted_results:,} results + {purged.deleted_violations:,} violations",
            f"{elapsed:.2f} s ({purged.deleted_results / elapsed:,.0f} results/s)",
        )
    )


# PostgreSQL plumbing -----------------------------------------------------------------------


async def _timed(fn: Any, repeat: int) -> tuple[Timings, list[Any]]:
    samples, values = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        values.append(await fn())
        samples.append(time.perf_counter() - started)
    return Timings(tuple(samples)), values


def _upgrade(url: str) -> None:
    from floe_core.state.engine import upgrade

    asyncio.run(upgrade(url))


def _database_url(server: str, database: str | None, *, async_driver: bool) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(server)
    url = url.set(drivername="postgresql+psycopg" if async_driver else "postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _recreate_database(server: str, name: str) -> None:
    import psycopg

    _drop_database(server, name)
    with psycopg.connect(_database_url(server, None, async_driver=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_database_url(server, None, async_driver=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
