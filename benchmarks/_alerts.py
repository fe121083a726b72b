"""Alert routing at scale: routing decisions per second, and delivery latency to a webhook.

The workload (defaults; ``--quick`` takes 50 contracts): 500 contracts, each checked 20
times, 5 simulated minutes apart, each run finding one violation (10,000 violations). The
contracts have one ongoing problem each, so most runs repeat what was already alerted:

- 60% a stale table (``freshness``, error, on ``updated_at``) on every run;
- 30% schema drift (warning) on column ``col_a``, from the 9th run on ``col_b`` (news);
- 10% a quality rule at warning, at error from the 11th run (news: the severity rose).

Two channels, both the ``webhook`` channel (``floe-alert-webhook`` when it is installed,
otherwise a small JSON channel of this module), POST to one real local receiver
(``floe_core.testing.receiver.HttpReceiver``, run in a child process so that its threads do
not take the router's GIL): ``all`` hears of warnings and worse of every contract, ``oncall``
of errors of ``contract_0*``..``contract_2*`` only. The default ``AlertConfig`` applies: dedup
window 30 minutes (so an unchanged problem is re-sent every 6th run), 10 notifications per
contract and channel an hour. One ``route()`` per contract run routes to both channels, so a
run is two routing decisions (a ledger turn each, also for a channel that routes nothing:
that turn is where a resolved problem would be found). A round is every contract's run at one
simulated time; its routes run concurrently, at most ``concurrency`` at once, as a monitor
runs its contracts.

Timed on PostgreSQL (a database of its own, ``floe_bench_alerts``, dropped and created again
each run) and on SQLite (a file in a temporary directory), each from an empty state after a
warm-up on another contract: decisions per second over the whole workload, and for every
delivered notification the time from just before ``route()`` of its run to its arrival at
the receiver (``time.monotonic()`` is one clock for every process on Linux). Both backends
must make the same decisions, and the receiver must get exactly the notifications the
router reports sent.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _history import _database_url, _drop_database, _recreate_database
from _report import Row, Section, ms

DATABASE = "floe_bench_alerts"
DECISIONS_TARGET_PER_S = 2_000.0
P99_TARGET_S = 0.100
#: The paced phase: new contracts' first violations (all news), one run every 1/RATE s.
PACED_RATE = 50
PACED_RUNS = 400
RUN_SPACING = timedelta(minutes=5)
CHECKED = ("freshness", "schema_drift", "quality")
_LIBRARY_PATH = re.compile(r"/\S*/(?:site-packages|lib/python3\.\d+)/")

# The receiver as a child process: prints its port, records until stdin closes, then writes
# every request (path, arrival time, body) as JSON to stdout. socketserver's listen backlog
# of 5 would drop connections when 16 routes deliver at once (the client then retries its SYN
# a second later, or fails with a ReadError); a real webhook endpoint listens with hundreds.
_RECEIVER = """
import http.server, json, sys
http.server.ThreadingHTTPServer.request_queue_size = 128
from floe_core.testing.receiver import HttpReceiver
with HttpReceiver() as receiver:
    print(receiver.port, flush=True)
    sys.stdin.read()
    requests = [
        {"path": r.path, "at": r.at, "body": r.body.decode()} for r in receiver.requests
    ]
sys.stdout.write(json.dumps(requests))
"""


@dataclass(frozen=True)
class AlertsConfig:
    """How many contracts, runs of each, routes at once; the PostgreSQL server."""

    contracts: int
    runs: int
    concurrency: int
    batch: int  # contract runs per route_many call
    server: str
    profile: bool = False


@dataclass
class _Timed:
    """Wall time spent in the ledger's parts, added up over every route (benchmark-side)."""

    turns: int = 0
    turn_open_s: float = 0.0  # connection checkout, BEGIN, the lock
    turn_body_s: float = 0.0  # reads and writes inside the turn
    turn_commit_s: float = 0.0  # COMMIT and returning the connection
    silences: int = 0
    silences_s: float = 0.0
    settles: int = 0
    settles_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def reset(self) -> None:
        for name, value in vars(_Timed()).items():
            setattr(self, name, value)


@dataclass
class _Workload:
    """What one backend's run found."""

    backend: str
    decisions: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    decisions_by_run: list[tuple[str, tuple[tuple[str, str, str], ...]]] = field(
        default_factory=list
    )
    route_s: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    paced_latency_s: list[float] = field(default_factory=list)
    received: int = 0
    sent: int = 0
    timed: _Timed = field(default_factory=_Timed)
    profile: str | None = None

    @property
    def per_s(self) -> float:
        return self.decisions / self.seconds


def run_alerts(config: AlertsConfig) -> Section:
    section = Section("alerts")
    channel_kind = _channel_kind()
    workloads = []
    with tempfile.TemporaryDirectory() as tmp:
        _recreate_database(config.server, DATABASE)
        try:
            targets = {
                "PostgreSQL": _database_url(config.server, DATABASE, async_driver=True),
                "SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'state.db'}",
            }
            for backend, url in targets.items():
                print(f"  {backend} ...", flush=True)
                profile = config.profile and backend == "PostgreSQL"
                workloads.append(_with_receiver(config, backend, url, profile))
        finally:
            _drop_database(config.server, DATABASE)
    pg, lite = workloads
    _check(section, workloads)
    violations = config.contracts * config.runs
    shape = (
        f"{config.contracts:,} contracts x {config.runs} runs, {violations:,} violations, "
        f"2 channels, {config.batch} runs a route_many, {config.concurrency} at once"
    )
    for work in workloads:
        section.figures[work.backend] = _figures(work)
    section.figures["workload"] = {
        "contracts": config.contracts,
        "runs": config.runs,
        "violations": violations,
        "channels": 2,
        "concurrency": config.concurrency,
        "channel": channel_kind,
    }
    section.rows.append(
        Row(
            "alert routing",
            f"PostgreSQL state, {shape}",
            f"{pg.per_s:,.0f} decisions/s ({pg.decisions:,} in {pg.seconds:.1f} s, "
            f"{pg.cpu_s / pg.decisions * 1e3:.2f} ms CPU each)",
            f"{pg.per_s / lite.per_s:.2f}x SQLite",
            f">= {DECISIONS_TARGET_PER_S:,.0f}/s",
            pg.per_s >= DECISIONS_TARGET_PER_S,
        )
    )
    section.rows.append(
        Row(
            "alert routing",
            f"SQLite state, {shape}",
            f"{lite.per_s:,.0f} decisions/s ({lite.decisions:,} in {lite.seconds:.1f} s, "
            f"{lite.cpu_s / lite.decisions * 1e3:.2f} ms CPU each)",
            "",
            "context",
        )
    )
    for work in workloads:
        p50, p99 = _quantile(work.paced_latency_s, 0.50), _quantile(work.paced_latency_s, 0.99)
        other = lite if work is pg else pg
        ratio = f"{p99 / _quantile(other.paced_latency_s, 0.99):.2f}x {other.backend}'s p99"
        section.rows.append(
            Row(
                "alert delivery latency",
                f"{work.backend} state, {PACED_RATE} runs/s arriving: route() to arrival at a "
                "local webhook receiver",
                f"p50 {ms(p50)}, p99 {ms(p99)}, max {ms(max(work.paced_latency_s))} "
                f"({len(work.paced_latency_s):,} notifications)",
                ratio if work is pg else "",
                f"p99 < {P99_TARGET_S * 1e3:.0f} ms" if work is pg else "context",
                p99 < P99_TARGET_S if work is pg else None,
            )
        )
    for work in workloads:
        p50, p99 = _quantile(work.latency_s, 0.50), _quantile(work.latency_s, 0.99)
        section.rows.append(
            Row(
                "alert delivery latency",
                f"{work.backend} state, the throughput rounds above (a round's news all at "
                "once, queued)",
                f"p50 {ms(p50)}, p99 {ms(p99)}, max {ms(max(work.latency_s))} "
                f"({len(work.latency_s):,} notifications)",
                "",
                "context",
            )
        )
    section.notes.append(f"channel: {channel_kind}")
    for work in workloads:
        section.notes.append(_breakdown(work))
        if work.profile:
            section.notes.append(work.profile)
    return section


def _channel_kind() -> str:
    try:
        import floe_alert_webhook
    except ImportError:
        return "a small JSON channel of the benchmark (floe-alert-webhook is not installed)"
    return f"floe-alert-webhook {floe_alert_webhook.__version__} (CloudEvents)"


def _with_receiver(config: AlertsConfig, backend: str, url: str, profile: bool) -> _Workload:
    child = subprocess.Popen(
        [sys.executable, "-c", _RECEIVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        work, starts = asyncio.run(_workload(config, backend, url, port, profile))
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    requests = json.loads(out)
    for request in requests:
        body = json.loads(request["body"])
        for event in body if isinstance(body, list) else [body]:
            run = event["data"]["metadata"]["bench_run"]
            if run.startswith("paced:"):
                work.paced_latency_s.append(request["at"] - starts[run])
            elif run in starts:
                work.latency_s.append(request["at"] - starts[run])
                work.received += 1
    return work


async def _workload(
    config: AlertsConfig, backend: str, url: str, port: int, profile: bool
) -> tuple[_Workload, dict[str, float]]:
    from floe_core.alerting.router import AlertRouter, ContractRun
    from floe_core.state.engine import open_state

    work = _Workload(backend)
    clock = _Clock(datetime.now(UTC).replace(microsecond=0))
    channels = _channels(port)
    engine = await open_state(url, auto_upgrade=True)
    starts: dict[str, float] = {}
    try:
        ledger = _TimedLedger(engine, work.timed)
        router = AlertRouter(channels, _alert_config(), ledger=ledger, clock=clock)
        for run in range(2):  # warm the pool, the statement caches and the HTTP clients
            clock.now += RUN_SPACING
            await router.route("warmup", "1.0.0", _events("warmup", 9, run, clock.now, ""), CHECKED)
        work.timed.reset()
        gate = asyncio.Semaphore(config.concurrency)

        async def many(contracts: Sequence[int], run: int, record: bool = True) -> None:
            """The runs of ``contracts`` (one batch, as a monitor's finished checks) routed."""
            keys = [f"{run}:{contract}" for contract in contracts]
            async with gate:
                batch = [
                    ContractRun(
                        f"contract_{contract:03d}",
                        "1.0.0",
                        _events(f"contract_{contract:03d}", contract, run, clock.now, key),
                        CHECKED,
                    )
                    for contract, key in zip(contracts, keys, strict=True)
                ]
                started = time.monotonic()
                if record:
                    starts.update(dict.fromkeys(keys, started))
                routed = await router.route_many(batch)
                elapsed = time.monotonic() - started
            if not record:
                return
            work.route_s.append(elapsed)
            for key, outcomes in zip(keys, routed, strict=True):
                summary = tuple(sorted((o.channel, o.status, o.reason or "") for o in outcomes))
                work.decisions_by_run.append((key, summary))
                for outcome in outcomes:
                    work.outcomes[(outcome.channel, outcome.status, outcome.reason or "")] += 1
                    work.sent += outcome.status == "sent"
                work.decisions += len(channels)

        def batches(run: int, record: bool = True) -> list[Any]:
            every = range(config.contracts)
            size = config.batch
            return [many(every[i : i + size], run, record) for i in range(0, len(every), size)]

        started, cpu = time.perf_counter(), _cpu()
        for run in range(config.runs):
            clock.now += RUN_SPACING
            await asyncio.gather(*batches(run))
        work.seconds, work.cpu_s = time.perf_counter() - started, _cpu() - cpu
        await _paced(router, clock, starts)
        if profile:
            timed = replace(work.timed)  # the figures leave the profiled round out
            work.profile = await _profile(config, router, clock, batches)
            work.timed = timed
    finally:
        for channel in channels:
            await channel.plugin.aclose()
        await engine.dispose()
    return work, starts


async def _paced(router: Any, clock: _Clock, starts: dict[str, float]) -> None:
    """Runs arriving one every 1/PACED_RATE s, each a new contract's first violation (news,
    delivered): the latency of a delivery when the router keeps up, not of a queue."""
    tasks = []
    begin = time.monotonic()
    for i in range(PACED_RUNS):
        await asyncio.sleep(max(0.0, begin + i / PACED_RATE - time.monotonic()))
        name, key = f"paced_{i:04d}", f"paced:{i}"
        events = _events(name, i, 0, clock.now, key)
        starts[key] = time.monotonic()
        tasks.append(asyncio.create_task(router.route(name, "1.0.0", events, CHECKED)))
    await asyncio.gather(*tasks)


async def _profile(config: AlertsConfig, router: Any, clock: _Clock, batches: Any) -> str:
    """One more round, under cProfile (its decisions are not counted in the figures)."""
    profiler = cProfile.Profile()
    clock.now += RUN_SPACING
    started = time.monotonic()
    profiler.enable()
    await asyncio.gather(*batches(config.runs, False))
    profiler.disable()
    elapsed = time.monotonic() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(20)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    header = (
        f"PostgreSQL, one more round of {config.contracts} routes under cProfile "
        f"({ms(elapsed)}), top functions by own time:"
    )
    return "\n".join([header, *(_LIBRARY_PATH.sub("", ln) for ln in lines[start:])])


class _Clock:
    """The router's clock: the simulated time of the round being routed."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _alert_config() -> Any:
    from floe_core.config import AlertChannelRoutingRule, AlertConfig
    from floe_core.events import ViolationSeverity

    return AlertConfig(
        routing_rules=[
            AlertChannelRoutingRule(channel_name="all", min_severity=ViolationSeverity.WARNING),
            AlertChannelRoutingRule(
                channel_name="oncall",
                min_severity=ViolationSeverity.ERROR,
                contract_filter="contract_[0-2]*",
            ),
        ],
        dedup_window_minutes=30,
        rate_limit_per_contract=10,
        rate_limit_window_minutes=60,
    )


def _channels(port: int) -> list[Any]:
    from floe_core.alerting.channels import ConfiguredChannel

    try:
        from floe_alert_webhook import WebhookAlertChannel as channel_class
    except ImportError:
        channel_class = _json_channel_class()
    return [
        ConfiguredChannel(name, channel_class({"url": f"http://127.0.0.1:{port}/{name}"}))
        for name in ("all", "oncall")
    ]


def _events(name: str, contract: int, run: int, now: datetime, key: str) -> list[Any]:
    """The one violation run ``run`` of contract number ``contract`` finds."""
    from floe_core.events import ContractViolationEvent, ViolationSeverity, ViolationType

    kind = contract % 10
    if kind < 6:
        what = (ViolationType.FRESHNESS, ViolationSeverity.ERROR, "updated_at")
        expected, actual = "age <= 1h", "age 3h"
    elif kind < 9:
        column = "col_b" if run >= 8 else "col_a"
        what = (ViolationType.SCHEMA_DRIFT, ViolationSeverity.WARNING, column)
        expected, actual = "column absent", "column added"
    else:
        severity = ViolationSeverity.ERROR if run >= 10 else ViolationSeverity.WARNING
        what = (ViolationType.QUALITY, severity, "amount")
        expected, actual = "null_percent < 5", "null_percent 12"
    violation_type, severity, element = what
    return [
        ContractViolationEvent(
            contract_name=name,
            contract_version="1.0.0",
            violation_type=violation_type,
            severity=severity,
            message=f"{violation_type.value} of {element} breached ({severity.value})",
            element=element,
            expected_value=expected,
            actual_value=actual,
            timestamp=now,
            affected_consumers=["finance-dashboard"],
            check_duration_seconds=0.01,
            metadata={"table": f"sales.{name}", "bench_run": key},
        )
    ]


class _TimedLedger:
    """An ``AlertLedger`` whose turns, silence reads and settles add up their wall time."""

    def __new__(cls, engine: Any, timed: _Timed) -> Any:
        from floe_core.state.alerts import AlertLedger

        class TimedLedger(AlertLedger):
            @asynccontextmanager
            async def turn(self, contract: str) -> AsyncIterator[Any]:
                opened = time.perf_counter()
                async with super().turn(contract) as turn:
                    body = time.perf_counter()
                    timed.turn_open_s += body - opened
                    try:
                        yield turn
                    finally:
                        commit = time.perf_counter()
                        timed.turn_body_s += commit - body
                timed.turn_commit_s += time.perf_counter() - commit
                timed.turns += 1

            async def silences(self, active_at: datetime | None = None) -> list[Any]:
                started = time.perf_counter()
                try:
                    return await super().silences(active_at)
                finally:
                    timed.silences += 1
                    timed.silences_s += time.perf_counter() - started

            async def settle(self, outcomes: Any) -> None:
                started = time.perf_counter()
                try:
                    await super().settle(outcomes)
                finally:
                    timed.settles += 1
                    timed.settles_s += time.perf_counter() - started

        return TimedLedger(engine)


def _json_channel_class() -> Any:
    from floe_core.plugins.http_channel import HttpAlertChannel

    class JsonChannel(HttpAlertChannel):
        """POSTs a run's violations as a JSON array, each ``{"data": {..., "metadata"}}``."""

        name = "bench-json"

        def validate_config(self) -> list[str]:
            return [] if self.config.get("url") else ["config.url: required"]

        async def send_alert(self, event: Any) -> bool:
            return await self.send_alerts([event])

        async def send_alerts(self, events: Sequence[Any]) -> bool:
            body = [{"data": event.model_dump(mode="json")} for event in events]
            delivery = await self.post(
                self.config["url"],
                content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            return delivery.ok

    return JsonChannel


def _check(section: Section, workloads: list[_Workload]) -> None:
    for work in workloads:
        failed = sum(n for (_, status, _), n in work.outcomes.items() if status == "failed")
        if failed:
            section.errors.append(f"alerts: {failed} deliveries failed on {work.backend}")
        if work.received != work.sent:
            section.errors.append(
                f"alerts: on {work.backend} the router reported {work.sent} notifications "
                f"sent and the receiver got {work.received}"
            )
    pg, lite = (sorted(w.decisions_by_run) for w in workloads)
    if pg != lite:
        differ = sum(a != b for a, b in zip(pg, lite, strict=True))
        section.errors.append(f"alerts: PostgreSQL and SQLite decided {differ} runs differently")


def _figures(work: _Workload) -> dict[str, Any]:
    return {
        "decisions": work.decisions,
        "seconds": work.seconds,
        "decisions_per_s": work.per_s,
        "process_cpu_s": work.cpu_s,
        "outcomes": {"/".join(k).rstrip("/"): n for k, n in sorted(work.outcomes.items())},
        "notifications_received": work.received,
        "latency_s": _distribution(work.latency_s),
        "route_s": _distribution(work.route_s),
        "ledger": work.timed.as_dict(),
    }


def _distribution(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    return {
        "n": len(samples),
        "p50": _quantile(samples, 0.50),
        "p90": _quantile(samples, 0.90),
        "p99": _quantile(samples, 0.99),
        "max": max(samples),
        "mean": statistics.fmean(samples),
    }


def _breakdown(work: _Workload) -> str:
    t = work.timed
    outcomes = ", ".join(
        f"{channel} {status}{f' ({reason})' if reason else ''} {n:,}"
        for (channel, status, reason), n in sorted(work.outcomes.items())
    )
    routed = sum(work.outcomes.values())
    per_turn = (
        f"ledger turn: open {ms(t.turn_open_s / t.turns)} (checkout, BEGIN, lock), "
        f"body {ms(t.turn_body_s / t.turns)}, commit {ms(t.turn_commit_s / t.turns)} "
        f"(mean wall time of {t.turns:,}, under concurrency)"
    )
    return (
        f"{work.backend}: {work.decisions:,} decisions ({work.decisions - routed:,} routed "
        f"nothing): {outcomes}; route() p50 {ms(_quantile(work.route_s, 0.5))}, p99 "
        f"{ms(_quantile(work.route_s, 0.99))}; {per_turn}; silences read "
        f"{ms(t.silences_s / max(t.silences, 1))}, settle {ms(t.settles_s / max(t.settles, 1))}"
    )


def _quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
