"""ContractMonitor: register contracts and check them against their live Iceberg tables.

    monitor = ContractMonitor.from_manifest("manifest.yaml")
    monitor.register("contracts/orders.yaml")
    results = await monitor.check("orders", types=[ViolationType.FRESHNESS])

Which catalog a contract's tables are read from: the manifest's ``plugins.catalog`` if it
names one, else the contract's own ``iceberg`` server, else the embedded default under
``./.floe/``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from floe_core.contracts.loader import load_contract
from floe_core.contracts.model import DataContract, contract_name, contract_version
from floe_core.contracts.tables import contract_tables, iceberg_server
from floe_core.errors import (
    ContractNotRegisteredError,
    InputError,
    ManifestError,
    PluginError,
)
from floe_core.manifest import (
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
from floe_core.monitoring.models import (
    CheckReport,
    CheckResult,
    ContractViolationEvent,
    MonitoringConfig,
    RegisteredContract,
    ViolationType,
)
from floe_core.monitoring.runner import connect_catalog, failed_run, run_check, utcnow
from floe_core.plugins.catalog import CatalogPlugin
from floe_core.plugins.registry import PluginRegistry, get_registry
from floe_core.plugins.types import PluginType


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
    ) -> None:
        self.config = config or MonitoringConfig()
        self._catalog = catalog
        self._checks: dict[ViolationType, Check] = dict(checks or default_checks())
        self._registry = registry or get_registry()
        self._clock = clock
        self._home = home
        self._contracts: dict[str, RegisteredContract] = {}
        self._catalogs: dict[str, CatalogPlugin] = {}
        self._manifest_source: Path | None = None
        self._plugins = plugins or PluginsSection()

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
        """The catalog plugin that reads ``registered``'s tables (created once, then reused)."""
        if isinstance(self._catalog, CatalogPlugin):
            return self._catalog
        if self._catalog is not None:
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
        """Run the checks ``types`` (default: all available) against contract ``name``."""
        registered = self._get(name)
        selected = self._select(types)
        config = registered.monitoring_overrides or self.config
        catalog = self.catalog_for(registered)
        now = self._clock()
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
        timeout = float(config.check_timeout_seconds)
        unreachable = await connect_catalog(catalog, timeout)

        async def one(check: Check) -> tuple[CheckResult, list[ContractViolationEvent]]:
            if unreachable is not None and check.needs_catalog:
                return failed_run(check, ctx, unreachable)
            return await run_check(check, ctx, timeout)

        runs = list(await asyncio.gather(*(one(self._checks[t]) for t in selected)))
        for result, _ in runs:
            registered.last_check_times[result.check_type.value] = now
        return CheckReport(
            contract_name=registered.contract_name,
            contract_version=registered.contract_version,
            results=[result for result, _ in runs],
            violations=[event for _, events in runs for event in events],
        )

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
