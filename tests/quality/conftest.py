"""Fixtures for the quality tests: real SQLite-backed Iceberg tables and contracts with rules."""

from __future__ import annotations

import asyncio
from typing import Any

from floe_core.events import CheckReport, CheckResult, ViolationType
from floe_core.manifest import PluginSpec, PluginsSection
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.plugins.registry import PluginRegistry
from floe_core.testing.iceberg import catalog_config
from tests._factories import table_object
from tests._lake import Lake, lake_fixture


class QualityLake(Lake):
    """The shared lake, with shortcuts to run the quality check on contracts."""

    obj = staticmethod(table_object)

    def run(
        self,
        contract: dict[str, Any],
        *,
        plugins: PluginsSection | None = None,
        registry: PluginRegistry | None = None,
    ) -> CheckReport:
        """Register ``contract`` (written to YAML) and run only the quality check."""
        monitor = ContractMonitor(
            catalog=PluginSpec(type="sql", config=catalog_config(self.warehouse)),
            plugins=plugins,
            registry=registry,
        )
        name = monitor.register(self.write_contract(contract)).contract_name
        return asyncio.run(monitor.run(name, [ViolationType.QUALITY]))

    def quality(self, contract: dict[str, Any], **kwargs: Any) -> CheckResult:
        """The quality check's result for ``contract``."""
        [result] = self.run(contract, **kwargs).results
        return result

    @staticmethod
    def rules(result: CheckResult) -> dict[str, dict[str, Any]]:
        """The result's per-rule details, by rule name (tests give every rule an id)."""
        rules = result.details["rules"]
        by_name = {rule["rule"]: rule for rule in rules}
        assert len(by_name) == len(rules), "give every rule in the test a distinct id"
        return by_name


lake = lake_fixture(QualityLake)
