"""The long-running monitor's scheduler: every registered contract's checks, at their intervals.

    async with monitor:            # ContractMonitor.start() / stop()
        await asyncio.Event().wait()

The schedule lives in the state database (``floe_core.state.schedule``), so any number of
monitors on one PostgreSQL share it, each due check running once across them; on SQLite one
monitor runs per database. Three loops:

- **refresh** (every ``refresh_seconds``): heartbeat; re-read the registered set and plan the
  rows of what changed (a check type a contract has nothing for gets no row; intervals come
  from the manifest's ``check_intervals`` with the contract's overrides merged over them);
  in ``continuous`` mode, look for new snapshots; once a day, claim and run retention.
- **claim** (every ``tick_seconds``): claim due rows up to the free concurrency and start
  them; release the leases of the runs that ended.
- **runs**: ``ContractMonitor.run`` of one (contract, check type), then its violations
  through the alert router, one log line, metrics.

A run still going when its row comes due again makes that next run be skipped (never two runs
of one contract's check type at once): a WARNING and ``floe_monitor_overruns_total``. Blocking
work (catalog, engine, database drivers) never runs on the event loop: checks run in threads
and the database is reached through async drivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from floe_core._redact import error_line
from floe_core.contracts.tables import contract_tables
from floe_core.errors import FloeError, InputError
from floe_core.events import CheckResult, CheckStatus, ContractViolationEvent, ViolationType
from floe_core.monitoring.runner import CheckTimeout, run_in_daemon_thread
from floe_core.state.schedule import (
    DueCheck,
    Finished,
    ScheduleStore,
    next_slot,
    overran,
    phase,
)

if TYPE_CHECKING:
    from floe_core.alerting.router import AlertOutcome, AlertRouter
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.plugins.catalog import CatalogPlugin
    from floe_core.state.store import StateStore

log = logging.getLogger(__name__)

#: Check types the monitor schedules (each one a contract has anything for).
SCHEDULED_TYPES = (
    ViolationType.AVAILABILITY,
    ViolationType.FRESHNESS,
    ViolationType.SCHEMA_DRIFT,
    ViolationType.QUALITY,
    ViolationType.DEPRECATION,
)
#: Deprecation has no interval of its own in check_intervals: once an hour is plenty for
#: dates counted in days.
DEPRECATION_INTERVAL_SECONDS = 3600.0
#: Contracts planned per schedule transaction (a first start on 10,000 contracts plans in
#: batches, each a bounded IN list).
PLAN_BATCH = 500
#: Types a new snapshot can change (continuous mode runs them as soon as one lands).
SNAPSHOT_TYPES = ("freshness", "schema_drift", "quality")


class SchedulerMetrics(Protocol):
    """What the scheduler reports to metrics (``floe_core.telemetry.metrics``)."""

    def check_finished(
        self, result: CheckResult, violations: Sequence[ContractViolationEvent]
    ) -> None: ...

    def overrun(self, check_type: str) -> None: ...

    def schedule_lag(self, seconds: float) -> None: ...

    def alert_delivered(self, channel: str, status: str) -> None: ...


@dataclass
class SchedulerStats:
    """What ``/status`` shows of the scheduler, kept as it runs."""

    started_at: datetime | None = None
    runs_started: int = 0
    runs_finished: int = 0
    overruns: int = 0
    last_success: dict[str, datetime] = field(default_factory=dict)
    last_refresh: datetime | None = None
    degraded: dict[str, str] = field(default_factory=dict)
    catalog_problems: list[str] = field(default_factory=list)


class Scheduler:
    """Runs a ``ContractMonitor``'s registered contracts' checks on their schedule."""

    def __init__(
        self,
        monitor: ContractMonitor,
        store: StateStore,
        *,
        router: AlertRouter | None = None,
        metrics: SchedulerMetrics | None = None,
        replica_id: str | None = None,
        max_concurrency: int = 32,
        tick_seconds: float = 0.1,
        refresh_seconds: float = 5.0,
        grace_seconds: float = 30.0,
        first_run_within: float | None = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_concurrency < 1:
            raise InputError("max_concurrency must be at least 1")
        self.monitor = monitor
        self.store = store
        self.router = router
        self.metrics = metrics
        self.replica_id = replica_id or f"floe-{uuid.uuid4().hex[:12]}"
        self.schedule = ScheduleStore(store.engine, self.replica_id)
        self.max_concurrency = max_concurrency
        self.tick_seconds = tick_seconds
        self.refresh_seconds = refresh_seconds
        self.grace_seconds = grace_seconds
        self.first_run_within = first_run_within
        self.clock = clock
        self.stats = SchedulerStats()
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}
        #: What this replica claimed last, per row: run on its slots while the database is gone.
        self._held: dict[tuple[str, str], DueCheck] = {}
        self._finished: list[Finished] = []
        self._known: dict[str, datetime | None] = {}  # contract -> updated_at when planned
        self._loops: list[asyncio.Task[None]] = []
        self._last_tick = time.monotonic()
        self._stopping = asyncio.Event()
        self._snapshots: dict[str, int | None] = {}  # table -> current snapshot id (continuous)
        #: ``status()`` as of the last refresh, for readers that cannot await (HTTP threads).
        self.cached_status: dict[str, Any] = {}

    # Life cycle -------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self.monitor.config.mode

    @property
    def lease(self) -> timedelta:
        """How long a claimed run is this replica's: the check timeout twice, plus a margin
        (a run cannot take longer than its timeout); then another replica may take it."""
        return timedelta(seconds=2 * self.monitor.config.check_timeout_seconds + 5)

    async def start(self) -> None:
        """Join the replicas, plan the registered set, and start the loops."""
        now = self.clock()
        await self.schedule.join(now, stale_after=self._stale_after)
        self.monitor.on_lineage_failure = getattr(self.metrics, "lineage_failed", None)
        self.stats.started_at = now
        await self._refresh()
        self._last_tick = time.monotonic()
        self._loops = [
            asyncio.create_task(self._every(self.refresh_seconds, self._refresh), name="refresh"),
            asyncio.create_task(self._every(self.tick_seconds, self._tick), name="claim"),
        ]
        log.info(
            "monitor %s started in %s mode on %s: %d contract(s) registered",
            self.replica_id,
            self.mode,
            self.store.display,
            len(self._known),
            extra={"floe.replica": self.replica_id, "floe.mode": self.mode},
        )

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming; let running checks finish within ``grace`` seconds (default
        ``grace_seconds``), then cancel the rest, recording them as errors; release leases."""
        self._stopping.set()
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        running = list(self._running.values())
        if running:
            log.info("waiting up to %.0fs for %d running check(s)", grace, len(running))
            _, late = await asyncio.wait(
                running, timeout=self.grace_seconds if grace is None else grace
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._flush()
        try:
            await self.schedule.leave()
        except Exception as exc:  # the database may be gone: leases expire by themselves
            log.warning("could not release this monitor's leases: %s", error_line(exc))
        log.info("monitor %s stopped", self.replica_id)

    @property
    def running_count(self) -> int:
        """Checks this replica is running now."""
        return len(self._running)

    @property
    def _stale_after(self) -> timedelta:
        return timedelta(seconds=max(3 * self.refresh_seconds, 15.0))

    async def _every(self, seconds: float, step: Callable[[], Any]) -> None:
        while not self._stopping.is_set():
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database that went away: degrade, keep going
                self._degrade(step.__name__.strip("_"), exc)
            else:
                self.stats.degraded.pop(step.__name__.strip("_"), None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    def _degrade(self, what: str, exc: BaseException) -> None:
        reason = f"the {what} loop failed: {error_line(exc)}"
        first = what not in self.stats.degraded
        self.stats.degraded[what] = reason
        log.log(logging.WARNING if first else logging.DEBUG, "%s", reason)

    # Health -----------------------------------------------------------------------------

    def liveness(self) -> tuple[bool, str]:
        """Whether the claim loop is ticking (stuck for 30 ticks and at least 10 s: not)."""
        stuck_after = max(30 * self.tick_seconds, 10.0)
        idle = time.monotonic() - self._last_tick
        if self._loops and idle > stuck_after:
            return False, f"the scheduler loop has not ticked for {idle:.0f}s"
        return True, "ok"

    # Refresh ----------------------------------------------------------------------------

    async def _refresh(self) -> None:
        now = self.clock()
        await self.schedule.heartbeat(now)
        registrations = await self.schedule.registrations()
        active = {r.contract_name: r.updated_at for r in registrations if r.active}
        changed = [n for n, at in active.items() if n not in self._known or self._known[n] != at]
        gone = [n for n in self._known if n not in active]
        if not self._known:  # first refresh: rows of contracts no longer registered go too
            gone += [n for n in await self.schedule.scheduled_names() if n not in active]
        wanted: dict[str, dict[str, float]] = {}
        for registered in await self._load(changed):
            name = registered.contract_name
            self.monitor.register(registered)
            wanted[name] = self.intervals(registered)
            self._known[name] = active[name]
        names = list(wanted)
        for start in range(0, len(names), PLAN_BATCH):
            batch = {n: wanted[n] for n in names[start : start + PLAN_BATCH]}
            await self.schedule.plan(batch, now, self.first_run_within)
        for name in gone:
            self._known.pop(name, None)
            if name in {c.contract_name for c in self.monitor.contracts}:
                self.monitor.unregister(name)
        await self.schedule.drop(gone)
        if changed or gone:
            log.info(
                "registered set: %d contract(s) (%d new or changed, %d gone)",
                len(self._known),
                len(wanted),
                len(set(gone)),
            )
        if self.mode == "continuous":
            await self._new_snapshots(now)
        await self._daily_retention(now)
        await self._probe_catalogs()
        self.stats.last_refresh = now
        self.cached_status = await self.status()

    async def _load(self, names: list[str]) -> list[RegisteredContract]:
        """The registrations of ``names``: one by one for a few, all at once for many."""
        if len(names) > PLAN_BATCH // 10:
            wanted = set(names)
            everyone = await self.store.list_contracts(active_only=True)
            return [r for r in everyone if r.contract_name in wanted]
        loaded = [await self.store.get_contract(name) for name in names]
        return [r for r in loaded if r is not None]

    def intervals(self, registered: RegisteredContract) -> dict[str, float]:
        """Each check type the contract has something for, and its interval in seconds;
        nothing in ``on_demand`` mode or with monitoring disabled."""
        config = self.monitor.config.merged_with(registered.monitoring_overrides)
        if config.mode == "on_demand" or not config.enabled:
            return {}
        tables = contract_tables(registered.contract)
        wanted: dict[str, float] = {}
        for check_type in SCHEDULED_TYPES:
            check = self.monitor.check_of(check_type)
            if check is None or not check.applies(registered.contract, tables):
                continue
            seconds = config.check_intervals.seconds(check_type.value)
            wanted[check_type.value] = seconds or DEPRECATION_INTERVAL_SECONDS
        return wanted

    async def _daily_retention(self, now: datetime) -> None:
        if not await self.schedule.claim_daily("retention", now.date(), now):
            return
        result = await self.monitor.apply_retention()
        log.info(
            "daily retention (this replica's turn, %d days): %d day(s) rolled up, %d check "
            "result(s) and %d violation(s) older than %s purged",
            result.retention_days,
            len(result.rolled_up_days),
            result.deleted_results,
            result.deleted_violations,
            result.cutoff.isoformat(),
        )

    async def _new_snapshots(self, now: datetime) -> None:
        """Continuous mode: make a table's freshness, drift and quality runs due when its
        current snapshot changes (a metadata read per table, in a thread)."""
        by_table: dict[str, set[str]] = {}
        for registered in self.monitor.contracts:
            for table in contract_tables(registered.contract):
                if table.identifier:
                    by_table.setdefault(table.identifier, set()).add(registered.contract_name)
        changed: set[str] = set()
        for identifier, names in by_table.items():
            registered = self.monitor.registered(next(iter(names)))
            snapshot = await run_in_daemon_thread(
                partial(self._snapshot_of, registered, identifier),
                float(self.monitor.config.check_timeout_seconds),
            )
            before = self._snapshots.get(identifier, snapshot)
            self._snapshots[identifier] = snapshot
            if snapshot != before:
                changed |= names
        if changed:
            marked = await self.schedule.mark_due(changed, SNAPSHOT_TYPES, now)
            log.info("new snapshots: %d check(s) of %d contract(s) due now", marked, len(changed))

    async def _probe_catalogs(self) -> None:
        """Whether each catalog the registered contracts use answers (for ``/readyz``)."""
        catalogs: dict[str, CatalogPlugin | FloeError] = {}
        for registered in self.monitor.contracts:
            try:
                plugin = self.monitor.catalog_for(registered)
            except FloeError as exc:
                catalogs[f"contract {registered.contract_name}"] = exc
                continue
            catalogs.setdefault(plugin.catalog_name, plugin)
        timeout = float(self.monitor.config.check_timeout_seconds)
        problems: list[str] = []
        for name, found in catalogs.items():
            if isinstance(found, FloeError):
                problems.append(f"{name}: {error_line(found)}")
                continue
            try:
                await run_in_daemon_thread(found.ping, timeout)
            except CheckTimeout:
                problems.append(f"catalog {name} did not answer within {timeout:g}s")
            except Exception as exc:
                problems.append(f"catalog {name} does not answer: {error_line(exc)}")
        self.stats.catalog_problems = problems

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready when the state database and every catalog in use answered at the last
        refresh (and that refresh is recent)."""
        reasons = list(self.stats.degraded.values()) + self.stats.catalog_problems
        last = self.stats.last_refresh
        late = max(3 * self.refresh_seconds, 15.0)
        if last is None:
            reasons.append("the registered set has not been read yet")
        elif (self.clock() - last).total_seconds() > late:
            reasons.append(f"the registered set was last read at {_iso(last)}")
        return not reasons, reasons

    def _snapshot_of(self, registered: RegisteredContract, identifier: str) -> int | None:
        try:
            table = self.monitor.catalog_for(registered).load_table(identifier)
        except FloeError:
            return None  # the availability check reports it
        snapshot = table.metadata.current_snapshot_id
        return int(snapshot) if snapshot is not None else None

    # Claiming ---------------------------------------------------------------------------

    async def _tick(self) -> None:
        self._last_tick = time.monotonic()
        now = self.clock()
        try:
            await self._flush()
            if self._stopping.is_set():
                return
            free = self.max_concurrency - len(self._running)
            claimed = await self.schedule.claim(now, free, self.lease)
        except (SQLAlchemyError, OSError):
            self._run_held_locally(now)
            raise
        for due in claimed:
            self._held[(due.contract_name, due.check_type)] = due
            self._start(due, now, local=False)

    def _start(self, due: DueCheck, now: datetime, *, local: bool) -> None:
        key = (due.contract_name, due.check_type)
        if key in self._running:  # this replica still runs it: the lease lapsed meanwhile
            self._skip(due, due.due_at)
            return
        lag = max(0.0, (now - due.due_at).total_seconds())
        if self.metrics is not None:
            self.metrics.schedule_lag(lag)
        self.stats.runs_started += 1
        task = asyncio.create_task(self._run(due, lag, local), name=f"{key[0]}/{key[1]}")
        self._running[key] = task
        task.add_done_callback(lambda _, key=key: self._running.pop(key, None))  # type: ignore[misc]

    def _run_held_locally(self, now: datetime) -> None:
        """The state database is gone: keep running the rows this replica last held, on
        their slots, unpersisted, until it answers again (then the shared schedule rules)."""
        for key, due in list(self._held.items()):
            if due.next_due_at < now - timedelta(seconds=2 * due.interval_seconds):
                del self._held[key]  # another replica had it since: not ours to run
            elif due.next_due_at <= now and key not in self._running:
                fraction = phase(due.contract_name, due.check_type)
                local = DueCheck(
                    due.contract_name,
                    due.check_type,
                    due.next_due_at,
                    due.interval_seconds,
                    next_slot(now, due.interval_seconds, fraction),
                )
                self._held[key] = local
                self._start(local, now, local=True)

    def _skip(self, due: DueCheck, skipped_at: datetime) -> None:
        """A run of ``due``'s row, due at ``skipped_at``, does not happen: the one before it
        was still running (an overrun)."""
        self.stats.overruns += 1
        if self.metrics is not None:
            self.metrics.overrun(due.check_type)
        log.warning(
            "%s %s: the run due at %s UTC is skipped, the previous one was still running "
            "(it took longer than the %gs interval)",
            due.contract_name,
            due.check_type,
            f"{skipped_at:%H:%M:%S}",
            due.interval_seconds,
            extra={"floe.contract.name": due.contract_name, "floe.check.type": due.check_type},
        )

    async def _flush(self) -> None:
        done, self._finished = self._finished, []
        if not done:
            return
        try:
            await self.schedule.finish(done)
        except BaseException:
            self._finished = done + self._finished  # try again next tick
            raise
        for finished in done:
            if overran(finished):
                self._skip(finished.due, finished.due.next_due_at)

    # One run ----------------------------------------------------------------------------

    async def _run(self, due: DueCheck, lag: float, local: bool = False) -> None:
        name, check_type = due.contract_name, due.check_type
        status = "error"
        try:
            report = await self.monitor.run(name, [check_type])
            [result] = report.results
            status = result.status.value
            if result.status in (CheckStatus.PASS, CheckStatus.FAIL):
                self.stats.last_success[check_type] = result.timestamp
            if self.metrics is not None:
                self.metrics.check_finished(result, report.violations)
            outcomes = await self._alert(report.contract_version, result, report.violations)
            _log_run(result, report.violations, due, lag, outcomes)
        except asyncio.CancelledError:
            await self._record_cancelled(due)
            raise
        except Exception as exc:  # a configuration error, a bug: logged, the loop goes on
            log.error(
                "%s %s could not run: %s",
                name,
                check_type,
                error_line(exc),
                extra={"floe.contract.name": name, "floe.check.type": check_type},
            )
        finally:
            self.stats.runs_finished += 1
            if not local:  # a run without the database has no lease to release
                self._finished.append(Finished(due, status, self.clock()))

    async def _alert(
        self,
        version: str,
        result: CheckResult,
        events: Sequence[ContractViolationEvent],
    ) -> list[AlertOutcome]:
        if self.router is None or not self.router.channels:
            return []
        registered = self.monitor.registered(result.contract_name)
        config = self.monitor.config.merged_with(registered.monitoring_overrides)
        measured = [result.check_type.value] if result.status.value in ("pass", "fail") else []
        outcomes = await self.router.route(
            result.contract_name, version, events, measured, config=config.alerts
        )
        if self.metrics is not None:
            for outcome in outcomes:
                self.metrics.alert_delivered(outcome.channel, outcome.status)
        return outcomes

    async def _record_cancelled(self, due: DueCheck) -> None:
        """A run cut off by shutdown is recorded as an error, so the history shows it."""
        now = self.clock()
        result = CheckResult(
            id=str(uuid.uuid4()),
            contract_name=due.contract_name,
            check_type=ViolationType(due.check_type),
            status=CheckStatus.ERROR,
            duration_seconds=0.0,
            timestamp=now,
            details={
                "reason": "cancelled",
                "message": "the monitor stopped before this check finished (grace period over)",
            },
        )
        try:
            registered = self.monitor.registered(due.contract_name)
            await asyncio.shield(self.store.record_run(registered, [result], [], []))
        except Exception as exc:
            log.warning("could not record the cancelled run: %s", error_line(exc))

    # Status -----------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """What ``/status`` serves."""
        now = self.clock()
        try:
            counts: dict[str, Any] = await self.schedule.counts(now)
            replicas: int | None = await self.schedule.replicas()
        except Exception as exc:
            counts, replicas = {}, None
            self._degrade("status", exc)
        return {
            "replica_id": self.replica_id,
            "mode": self.mode,
            "state_database": self.store.display,
            "started_at": _iso(self.stats.started_at),
            "registered_contracts": len(self._known),
            "replicas": replicas,
            "checks": {
                **counts,
                "running_here": self.running_count,
                "started": self.stats.runs_started,
                "finished": self.stats.runs_finished,
                "overruns": self.stats.overruns,
            },
            "leases_held": counts.get("leased_here"),
            "last_success": {k: _iso(v) for k, v in sorted(self.stats.last_success.items())},
            "last_refresh": _iso(self.stats.last_refresh),
            "degraded": sorted(self.stats.degraded.values()),
        }


def _log_run(
    result: CheckResult,
    events: Sequence[ContractViolationEvent],
    due: DueCheck,
    lag: float,
    outcomes: Sequence[AlertOutcome],
) -> None:
    worst = max((e.severity for e in events), key=lambda s: s.rank, default=None)
    sent = sum(o.status == "sent" for o in outcomes)
    log.info(
        "%s %s %s in %.0f ms, %d violation(s)%s%s",
        result.contract_name,
        result.check_type.value,
        result.status.value,
        result.duration_seconds * 1000,
        len(events),
        f", worst {worst.value}" if worst else "",
        f", {sent} alert(s) sent" if sent else "",
        extra={
            "floe.contract.name": result.contract_name,
            "floe.check.type": result.check_type.value,
            "floe.check.status": result.status.value,
            "floe.check.duration_ms": round(result.duration_seconds * 1000, 1),
            "floe.check.violations": len(events),
            "floe.check.due_at": _iso(due.due_at),
            "floe.check.lag_ms": round(lag * 1000, 1),
        },
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
