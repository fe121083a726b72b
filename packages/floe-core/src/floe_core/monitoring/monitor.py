"""ContractMonitor: register contracts and check them against their live Iceberg tables.

    monitor = ContractMonitor.from_manifest("manifest.yaml")
    monitor.register("contracts/orders.yaml")
    results = await monitor.check("orders", types=[ViolationType.FRESHNESS])

Which catalog a contract's tables are read from: the manifest's ``plugins.catalog`` if it
names one, else the contract's own ``iceberg`` server, else the embedded default under
``./.floe/``.

With a ``StateStore`` (``ContractMonitor(state=StateStore(engine))``) each run is judged
against the persisted history (repeated breaches become CRITICAL, SLA statuses roll over
24 h, the availability window starts from the stored probes) and written in one transaction.
Without one the monitor remembers nothing between processes. While its database cannot be
used the checks run and report just the same: the monitor is DEGRADED, says so once in the
log, and ``persist_error`` tells why.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from floe_core.config import MonitoringConfig
from floe_core.contracts.loader import load_contract
from floe_core.contracts.model import DataContract, contract_name, contract_version
from floe_core.contracts.registered import RegisteredContract
from floe_core.contracts.tables import ContractTable, contract_tables, iceberg_server
from floe_core.errors import (
    ContractNotRegisteredError,
    InputError,
    ManifestError,
    PluginError,
    StateError,
)
from floe_core.events import CheckReport, CheckResult, ContractViolationEvent, ViolationType
from floe_core.lineage.emitter import LineageEmitter, lineage_emitter
from floe_core.lineage.events import run_events
from floe_core.manifest import (
    LineageBackendConfig,
    PlatformManifest,
    PluginSpec,
    PluginsSection,
    default_catalog,
    load_manifest,
)
from floe_core.monitoring.checks.availability import AvailabilityCheck
from floe_core.monitoring.checks.base import Check, CheckContext
from floe_core.monitoring.checks.deprecation import DeprecationCheck
from floe_core.monitoring.checks.freshness import FreshnessCheck
from floe_core.monitoring.checks.quality import QualityCheck
from floe_core.monitoring.checks.schema_drift import SchemaDriftCheck
from floe_core.monitoring.runner import connect_catalog, failed_run, run_check, utcnow
from floe_core.plugins.catalog import CatalogPlugin
from floe_core.plugins.metadata import HealthState, HealthStatus
from floe_core.plugins.registry import PluginRegistry, get_registry
from floe_core.plugins.types import PluginType
from floe_core.telemetry import tracing

if TYPE_CHECKING:
    from datetime import date

    from floe_core.alerting.router import AlertRouter
    from floe_core.monitoring.history import RunHistory
    from floe_core.monitoring.scheduler import Scheduler, SchedulerMetrics
    from floe_core.reporting.model import SLAReport, WindowKind
    from floe_core.state.retention import RetentionResult
    from floe_core.state.run_store import ProbePoint, RunStore
    from floe_core.state.store import StateStore

log = logging.getLogger(__name__)
#: The OpenLineage sender has not been looked for yet.
_NOT_YET = object()


def default_checks() -> dict[ViolationType, Check]:
    """One long-lived instance of every check type this floe-core provides."""
    return {
        ViolationType.FRESHNESS: FreshnessCheck(),
        ViolationType.SCHEMA_DRIFT: SchemaDriftCheck(),
        ViolationType.QUALITY: QualityCheck(),
        ViolationType.AVAILABILITY: AvailabilityCheck(),
        ViolationType.DEPRECATION: DeprecationCheck(),
    }


def catalog_from_server(contract: DataContract) -> PluginSpec | None:
    """A catalog spec from the contract's ``iceberg`` server (REST, or SQL for a DB URL)."""
    server = iceberg_server(contract)
    if server is None or not server.catalogUrl:
        return None
    config: dict[str, Any] = {"name": server.catalog or "contract", "uri": server.catalogUrl}
    if server.warehouse:
        config["warehouse"] = server.warehouse
    is_http = server.catalogUrl.startswith(("http://", "https://"))
    return PluginSpec(type="rest" if is_http else "sql", config=config)


class ContractMonitor:
    """Checks registered ODCS contracts against their live Iceberg tables."""

    def __init__(
        self,
        config: MonitoringConfig | None = None,
        *,
        catalog: PluginSpec | CatalogPlugin | None = None,
        checks: Mapping[ViolationType, Check] | None = None,
        registry: PluginRegistry | None = None,
        plugins: PluginsSection | None = None,
        clock: Callable[[], datetime] = utcnow,
        home: Path | None = None,
        state: RunStore | None = None,
    ) -> None:
        self.config = config or MonitoringConfig()
        self._catalog = catalog
        self._checks: dict[ViolationType, Check] = dict(checks or default_checks())
        self._registry = registry or get_registry()
        self._clock = clock
        self._home = home
        self._contracts: dict[str, RegisteredContract] = {}
        self._catalogs: dict[str, CatalogPlugin] = {}
        #: contract name -> (the registration it was made for, its catalog plugin)
        self._catalog_of: dict[str, tuple[RegisteredContract, CatalogPlugin]] = {}
        self._manifest_source: Path | None = None
        self._plugins = plugins or PluginsSection()
        self._state = state
        #: Why the last run could not use the state database; None once a run has persisted.
        self.persist_error: str | None = None
        #: Runs whose history could not be read or written, since the monitor started.
        self.persist_failures = 0
        self._scheduler: Scheduler | None = None
        self._lineage_emitter: LineageEmitter | object | None = _NOT_YET
        #: Called for each OpenLineage event that could not be sent (the monitor's metrics).
        self.on_lineage_failure: Callable[[], None] | None = None

    @classmethod
    def from_manifest(
        cls, manifest: PlatformManifest | str | Path | None = None, **kwargs: Any
    ) -> ContractMonitor:
        """A monitor configured by a manifest (object or path); None means embedded defaults."""
        if isinstance(manifest, str | Path):
            manifest = load_manifest(manifest)
        if manifest is None:
            return cls(**kwargs)
        monitor = cls(
            manifest.data_contracts.monitoring,
            catalog=manifest.plugins.catalog,
            plugins=manifest.plugins,
            **kwargs,
        )
        monitor._manifest_source = manifest.source
        return monitor

    @property
    def available_checks(self) -> list[ViolationType]:
        """The check types this monitor can run."""
        return list(self._checks)

    @property
    def contracts(self) -> list[RegisteredContract]:
        """Every registered contract."""
        return list(self._contracts.values())

    def register(
        self,
        contract: DataContract | RegisteredContract | str | Path,
        *,
        monitoring_overrides: MonitoringConfig | None = None,
    ) -> RegisteredContract:
        """Watch ``contract`` (a model, a registration, or the path of an ODCS YAML file)."""
        if isinstance(contract, RegisteredContract):
            registered = contract
        else:
            if isinstance(contract, str | Path):
                contract = load_contract(contract)
            registered = RegisteredContract(
                contract_name=contract_name(contract),
                contract_version=contract_version(contract),
                contract=contract,
                connection_config=self._connection_config(contract),
                monitoring_overrides=monitoring_overrides,
                registered_at=datetime.now(UTC),
            )
        self._contracts[registered.contract_name] = registered
        return registered

    def unregister(self, name: str) -> None:
        """Stop watching contract ``name``."""
        self._get(name)
        del self._contracts[name]

    def registered(self, name: str) -> RegisteredContract:
        """The registration of contract ``name``; ``ContractNotRegisteredError`` without one."""
        return self._get(name)

    def now(self) -> datetime:
        """The monitor's clock (UTC)."""
        return self._clock()

    def _send_lineage(
        self,
        catalog: CatalogPlugin,
        tables: Sequence[ContractTable],
        results: Sequence[CheckResult],
        events: Sequence[ContractViolationEvent],
    ) -> None:
        """Queue the OpenLineage events of a run's checks, if a lineage backend is set."""
        emitter = self._lineage()
        spec = self._plugins.lineage_backend
        if emitter is None:
            return
        config = spec.config if spec is not None else LineageBackendConfig()
        identifiers = list(dict.fromkeys(t.identifier for t in tables if t.identifier))
        for result in results:
            emitter.submit(
                run_events(
                    result,
                    [e for e in events if e.violation_type is result.check_type],
                    namespace=config.namespace,
                    dataset_namespace=f"iceberg://{catalog.catalog_name}",
                    tables=identifiers,
                    emit_on_pass=config.emit_on_pass,
                )
            )

    def _lineage(self) -> LineageEmitter | None:
        """The OpenLineage sender (made on first use), or None when none is configured."""
        if self._lineage_emitter is _NOT_YET:
            spec = self._plugins.lineage_backend
            self._lineage_emitter = lineage_emitter(
                spec.config.settings() if spec is not None else None,
                on_failure=self._lineage_failed,
            )
        return self._lineage_emitter  # type: ignore[return-value]

    def _lineage_failed(self) -> None:
        if self.on_lineage_failure is not None:
            self.on_lineage_failure()

    def flush_lineage(self, timeout: float = 2.0) -> None:
        """Send the OpenLineage events still queued (``timeout`` seconds at most) and stop the
        sender; a later run starts a new one."""
        emitter, self._lineage_emitter = self._lineage_emitter, _NOT_YET
        if isinstance(emitter, LineageEmitter):
            emitter.close(timeout)

    def check_of(self, check_type: ViolationType) -> Check | None:
        """The check this monitor runs for ``check_type``, if it has one."""
        return self._checks.get(check_type)

    # The long-running monitor ----------------------------------------------------------

    async def start(
        self,
        *,
        router: AlertRouter | None = None,
        metrics: SchedulerMetrics | None = None,
        **options: Any,
    ) -> Scheduler:
        """Start running every registered contract's checks on their schedule.

        The registered set is the state database's (``floe sla register``), re-read every
        few seconds. Violations go through ``router`` (default: one over the manifest's
        ``plugins.alert_channels``, deduplicated in the state database). ``options`` go to
        ``Scheduler`` (``max_concurrency``, ``tick_seconds``, ``grace_seconds``, ...).
        Stop with ``await monitor.stop()``, or use the monitor as an async context manager.
        """
        from floe_core.monitoring.scheduler import Scheduler

        if self._scheduler is not None:
            raise InputError("this monitor is already started; stop it first")
        store = self._require_state("schedule checks from")
        if router is None and self._plugins.alert_channels:
            router = self._default_router(store)
        scheduler = Scheduler(self, store, router=router, metrics=metrics, **options)
        await scheduler.start()
        self._scheduler = scheduler
        return scheduler

    async def stop(self, grace: float | None = None) -> None:
        """Stop scheduling; running checks get ``grace`` seconds to finish (then are
        cancelled and recorded as errors); leases are released. A no-op when not started."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        try:
            await scheduler.stop(grace)
        finally:
            self.flush_lineage()
            if scheduler.router is not None:
                for channel in scheduler.router.channels:
                    await channel.plugin.aclose()

    @property
    def scheduler(self) -> Scheduler | None:
        """The running scheduler, between ``start`` and ``stop``."""
        return self._scheduler

    async def __aenter__(self) -> ContractMonitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _default_router(self, store: StateStore) -> AlertRouter:
        from floe_core.alerting.channels import build_channels
        from floe_core.alerting.router import AlertRouter
        from floe_core.state.alerts import AlertLedger

        channels = build_channels(self._plugins.alert_channels, source=self._manifest_source)
        return AlertRouter(channels, self.config.alerts, ledger=AlertLedger(store.engine))

    def _get(self, name: str) -> RegisteredContract:
        try:
            return self._contracts[name]
        except KeyError:
            known = ", ".join(sorted(self._contracts)) or "none"
            raise ContractNotRegisteredError(
                f"Contract '{name}' is not registered with this monitor (registered: {known}). "
                "Register it first with monitor.register(path_or_contract)."
            ) from None

    def _connection_config(self, contract: DataContract) -> dict[str, Any]:
        if self._catalog is not None:
            return {"source": "monitor"}
        spec = catalog_from_server(contract)
        if spec is not None:
            return {"source": "contract", "catalog": spec.model_dump()}
        return {"source": "default", "catalog": default_catalog(self._home).model_dump()}

    def catalog_for(self, registered: RegisteredContract) -> CatalogPlugin:
        """The catalog plugin that reads ``registered``'s tables (created once, then reused;
        looked up by contract, as every check run and the monitor's readiness ask)."""
        if isinstance(self._catalog, CatalogPlugin):
            return self._catalog
        known = self._catalog_of.get(registered.contract_name)
        if known is not None and known[0] is registered:
            return known[1]
        plugin = self._catalog_from_spec(registered)
        self._catalog_of[registered.contract_name] = (registered, plugin)
        return plugin

    def _catalog_from_spec(self, registered: RegisteredContract) -> CatalogPlugin:
        if isinstance(self._catalog, PluginSpec):
            spec = self._catalog
        else:
            try:
                spec = PluginSpec.model_validate(registered.connection_config["catalog"])
            except (KeyError, ValidationError) as exc:
                raise InputError(
                    f"Contract '{registered.contract_name}' has no usable catalog in its "
                    f"connection_config ({exc}); register it through ContractMonitor.register."
                ) from None
        key = json.dumps(spec.model_dump(), sort_keys=True, default=str)
        if key not in self._catalogs:
            self._catalogs[key] = self._create_catalog(spec)
        return self._catalogs[key]

    def _create_catalog(self, spec: PluginSpec) -> CatalogPlugin:
        try:
            cls = self._registry.get(PluginType.CATALOG, spec.type)
            schema = cls.get_config_schema()
            if schema is not None:
                try:
                    schema.model_validate(spec.config)
                except ValidationError as exc:
                    raise PluginError(
                        f"config of catalog plugin '{spec.type}' is invalid: "
                        f"{exc.errors()[0]['msg']}"
                    ) from None
            plugin: CatalogPlugin = self._registry.create(
                PluginType.CATALOG, spec.type, spec.config
            )
        except PluginError as exc:
            if spec is not self._catalog:
                raise
            raise ManifestError(
                str(exc), source=self._manifest_source, path="plugins.catalog"
            ) from None
        return plugin

    async def run(
        self, name: str, types: Iterable[ViolationType | str] | None = None
    ) -> CheckReport:
        """Run the checks ``types`` (default: all available) against contract ``name``.

        One ``floe.contract.run`` span holds the checks' spans (without an OpenTelemetry SDK
        they cost nothing)."""
        registered = self._get(name)
        with tracing.contract_run(registered.contract_name, registered.contract_version):
            return await self._run(registered, types)

    async def _run(
        self, registered: RegisteredContract, types: Iterable[ViolationType | str] | None
    ) -> CheckReport:
        selected = self._select(types)
        config = self.config.merged_with(registered.monitoring_overrides)
        catalog = self.catalog_for(registered)
        now = self._clock()
        timeout = float(config.check_timeout_seconds)
        reads_catalog = any(self._checks[t].reads_catalog for t in selected)
        # The persisted probes are read while the catalog connects and the checks run; only
        # a check that reads them (``ctx.probe_history``) starts once they are in.
        wanting = {
            t
            for t in selected
            if self._checks[t].wants_probe_history(registered.contract_name, now)
        }
        probing = asyncio.ensure_future(
            self._persisted_probes(registered, bool(wanting), now, timeout)
        )
        try:
            unreachable = await connect_catalog(catalog, timeout) if reads_catalog else None
        except BaseException:
            # A history read left running would outlive the caller's database engine.
            await asyncio.gather(probing, return_exceptions=True)
            raise
        ctx = CheckContext(
            registered.contract,
            contract_tables(registered.contract),
            catalog,
            config,
            now,
            plugins=self._plugins,
            registry=self._registry,
            contract_key=registered.contract_name,
        )

        async def one(kind: ViolationType) -> tuple[CheckResult, list[ContractViolationEvent]]:
            check = self._checks[kind]
            if unreachable is not None and check.needs_catalog:
                return failed_run(check, ctx, unreachable)
            if kind in wanting:
                probes, _ = await asyncio.shield(probing)
                ctx.probe_history = probes or ()
            return await run_check(check, ctx, timeout)

        async def reading() -> RunHistory | None:
            """The history this run is judged against, read while the checks run; None
            when the database could not be read."""
            probes, readable = await probing
            history = self._read_history(registered, selected, config, now, probes, readable)
            return None if history is None else await history

        history = asyncio.ensure_future(reading()) if self._state is not None else None
        try:
            runs = list(await asyncio.gather(*(one(t) for t in selected)))
        except BaseException:
            if history is not None:
                history.cancel()
            probing.cancel()
            raise
        for result, _ in runs:
            registered.last_check_times[result.check_type.value] = now
        results = [result for result, _ in runs]
        events = [event for _, found in runs for event in found]
        if self._state is not None and history is not None:
            results, events = await self._remember(
                self._state, registered, config, results, events, now, history
            )
        self._send_lineage(catalog, ctx.tables, results, events)
        return CheckReport(
            contract_name=registered.contract_name,
            contract_version=registered.contract_version,
            results=results,
            violations=events,
        )

    async def _persisted_probes(
        self,
        registered: RegisteredContract,
        wanted: bool,
        now: datetime,
        timeout: float,
    ) -> tuple[list[ProbePoint] | None, bool]:
        """The persisted probes of the 24 h before ``now``, if a selected check asks for them
        (``wanted``).

        The availability check asks while the contract's window is empty (the first run in
        this process); the probes seed it and serve the SLA status too. None when nothing
        asked. False when the database could not be read: the run goes on with the in-memory
        window and, as after any failed history read, is not persisted.
        """
        if self._state is None or not wanted:
            return None, True
        from floe_core.monitoring.history import SLA_WINDOW

        try:
            async with asyncio.timeout(timeout):
                probes = await self._state.probe_history(registered.contract_name, now - SLA_WINDOW)
        except _failures(self._state) as exc:
            self._degrade(self._state, registered, "read the history of", exc)
            return None, False
        return probes, True

    def _read_history(
        self,
        registered: RegisteredContract,
        selected: list[ViolationType],
        config: MonitoringConfig,
        now: datetime,
        probes: list[ProbePoint] | None,
        readable: bool,
    ) -> asyncio.Future[RunHistory] | None:
        """Start reading the persisted history of the ``selected`` types, if there is a store.

        ``probes`` are the persisted probes this run already read, if it did, so they are
        not read twice.
        """
        if self._state is None or not readable:
            return None
        from floe_core.monitoring.history import load_history

        return asyncio.ensure_future(
            load_history(
                self._state,
                registered.contract_name,
                selected,
                now,
                config.severity_thresholds,
                probes=probes,
            )
        )

    async def _remember(
        self,
        store: RunStore,
        registered: RegisteredContract,
        config: MonitoringConfig,
        results: list[CheckResult],
        events: list[ContractViolationEvent],
        now: datetime,
        reading: Awaitable[RunHistory | None],
    ) -> tuple[list[CheckResult], list[ContractViolationEvent]]:
        """Escalate from the persisted history, then persist the run in one transaction.

        ``reading`` is the history being read since the checks started (None: the database
        could not be read before the run, which is then not persisted). A database that
        cannot be read or written leaves the results as they are (and, if the history could
        not be read, unescalated): the monitor degrades, it does not fail.
        """
        from floe_core.monitoring.escalation import escalate
        from floe_core.monitoring.sla_status import sla_statuses

        thresholds = config.severity_thresholds
        timeout = float(config.check_timeout_seconds)
        try:
            async with asyncio.timeout(timeout):
                history = await reading
        except _failures(store) as exc:
            self._degrade(store, registered, "read the history of", exc)
            return results, events
        if history is None:
            return results, events
        results, events = escalate(results, events, history.critical_breaches, thresholds)
        statuses = sla_statuses(results, events, history, now)
        try:
            async with asyncio.timeout(timeout):
                await store.record_run(registered, results, events, statuses)
        except _failures(store) as exc:
            self._degrade(store, registered, "persist the check results of", exc)
            return results, events
        if self.persist_error is not None:
            log.info(
                "state database %s reachable again; check results are persisted",
                store.display,
                extra={"floe.state.url": store.display},
            )
        self.persist_error = None
        return results, events

    def _degrade(
        self, store: RunStore, registered: RegisteredContract, doing: str, exc: BaseException
    ) -> None:
        """Note that the state database failed; warn once per outage, not once per run."""
        self.persist_failures += 1
        first = self.persist_error is None
        self.persist_error = (
            f"could not {doing} contract {registered.contract_name} in the state database "
            f"{store.display} ({_describe_db_error(exc)}); the checks ran and are reported, "
            "but they are not persisted and repeated breaches are not escalated to CRITICAL"
        )
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "%s",
            self.persist_error,
            extra={
                "floe.contract.name": registered.contract_name,
                "floe.state.url": store.display,
                "floe.state.failures": self.persist_failures,
            },
        )

    def health(self) -> HealthStatus:
        """HEALTHY, or DEGRADED while the state database cannot be used (checks still run)."""
        if self._state is None:
            return HealthStatus(
                HealthState.HEALTHY,
                "no state database: check results are not persisted",
                {"persistence": "off"},
            )
        details: dict[str, Any] = {
            "persistence": "on",
            "state_url": self._state.display,
            "persist_failures": self.persist_failures,
        }
        if self.persist_error is not None:
            return HealthStatus(HealthState.DEGRADED, self.persist_error, details)
        return HealthStatus(HealthState.HEALTHY, "", details)

    async def restore(self) -> list[RegisteredContract]:
        """Register every active contract of the state database, as a restarted monitor does."""
        restored = await self._require_state("restore contracts from").list_contracts(
            active_only=True
        )
        for registered in restored:
            self.register(registered)
        return restored

    async def report(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        window: WindowKind = "weekly",
        contracts: str | None = None,
    ) -> SLAReport:
        """The SLA report of the state database, coverage against this monitor's intervals.

        Defaults: the last 30 days (UTC, today included), weekly windows, every contract;
        ``contracts`` is a name or a glob. See ``floe_core.reporting.build.build_report``.
        """
        from floe_core.reporting.build import build_report

        store = self._require_state("report from")
        return await build_report(
            store,
            since=since,
            until=until,
            window=window,
            contracts=contracts,
            config=self.config,
            now=self._clock(),
        )

    async def apply_retention(self, *, dry_run: bool = False) -> RetentionResult:
        """Roll complete days up into daily aggregates and purge raw rows past retention.

        Uses ``config.retention_days``; safe to interrupt and to repeat (the daily job).
        """
        from floe_core.state.retention import apply_retention

        store = self._require_state("apply retention to")
        return await apply_retention(
            store.engine, self.config.retention_days, now=self._clock(), dry_run=dry_run
        )

    def _require_state(self, doing: str) -> StateStore:
        from floe_core.state.store import StateStore

        if not isinstance(self._state, StateStore):
            raise InputError(
                f"this monitor has no state database to {doing}; "
                "create it with ContractMonitor(state=StateStore(engine))"
            )
        return self._state

    async def check(
        self, name: str, types: Iterable[ViolationType | str] | None = None
    ) -> list[CheckResult]:
        """The ``CheckResult`` of each check in ``types`` run against contract ``name``."""
        return (await self.run(name, types)).results

    def _select(self, types: Iterable[ViolationType | str] | None) -> list[ViolationType]:
        if types is None:
            return list(self._checks)
        selected: list[ViolationType] = []
        for t in types:
            try:
                check_type = ViolationType(t)
            except ValueError:
                raise InputError(
                    f"'{t}' is not a check type; use one of "
                    f"{', '.join(v.value for v in self._checks)}"
                ) from None
            if check_type not in self._checks:
                raise InputError(
                    f"the {check_type.value} check is not available in this floe-core; "
                    f"available: {', '.join(v.value for v in self._checks)}"
                )
            if check_type not in selected:
                selected.append(check_type)
        return selected


def _failures(store: RunStore) -> tuple[type[BaseException], ...]:
    """What a state database read or write raises when the database cannot be used."""
    return (*store.failures, TimeoutError)


def _describe_db_error(exc: BaseException) -> str:
    """A database failure on one line: the driver's own message, without SQL or parameters."""
    from floe_core._redact import error_line

    if isinstance(exc, TimeoutError) and not str(exc):
        return "TimeoutError: no answer within check_timeout_seconds"
    if isinstance(exc, StateError):
        return str(exc)  # floe's own one line (the state worker's report of the failure)
    return error_line(exc)
