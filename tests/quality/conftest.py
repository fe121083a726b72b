"""Fixtures for the quality tests: real SQLite-backed Iceberg tables and contracts with rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from floe_core.events import CheckReport, CheckResult, ViolationType
from floe_core.manifest import PluginSpec, PluginsSection
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.plugins.registry import PluginRegistry
from floe_core.testing.iceberg import catalog_config, create_table


@dataclass
class QualityLake:
    """A real catalog, with shortcuts to build tables and run the quality check on contracts."""

    catalog: Any
    warehouse: Path
    manifest: Path
    write_contract: Callable[..., Path]
    floe: Callable[..., Any]

    def table(self, identifier: str, schema: pa.Schema, rows: Mapping[str, list[Any]]) -> Any:
        """Create ``identifier`` (format v2) holding ``rows`` in one data file."""
        create_table(self.catalog, identifier, schema)
        return self.append(identifier, rows)

    def append(self, identifier: str, rows: Mapping[str, list[Any]]) -> Any:
        """Append ``rows`` as one more data file; return the reloaded table."""
        table = self.catalog.load_table(identifier)
        table.append(pa.table(dict(rows), schema=table.schema().as_arrow()))
        return self.catalog.load_table(identifier)

    def load(self, identifier: str) -> Any:
        return self.catalog.load_table(identifier)

    @staticmethod
    def contract(*objects: dict[str, Any], name: str = "orders") -> dict[str, Any]:
        """An ODCS v3 contract document with the given schema objects."""
        return {
            "apiVersion": "v3.1.0",
            "kind": "DataContract",
            "id": f"{name}-contract",
            "name": name,
            "version": "1.0.0",
            "status": "active",
            "schema": list(objects),
        }

    @staticmethod
    def obj(
        table: str,
        properties: list[dict[str, Any]] | None = None,
        quality: list[dict[str, Any]] | None = None,
        name: str = "orders",
    ) -> dict[str, Any]:
        """A schema object describing ``table`` with property- and object-level rules."""
        obj: dict[str, Any] = {"name": name, "physicalName": table, "physicalType": "table"}
        if properties is not None:
            obj["properties"] = properties
        if quality is not None:
            obj["quality"] = quality
        return obj

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

    def cli(self, contract: dict[str, Any], *args: str) -> tuple[Any, dict[str, Any] | None]:
        """``floe sla check CONTRACT --manifest M --format json ARGS``: result and its JSON."""
        path = self.write_contract(contract)
        result = self.floe(
            "sla", "check", path, "--manifest", self.manifest, "--format", "json", *args
        )
        return result, json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def lake(
    catalog: Any,
    warehouse: Path,
    manifest: Path,
    write_contract: Callable[..., Path],
    floe: Callable[..., Any],
) -> QualityLake:
    """A fresh lake per test."""
    return QualityLake(catalog, warehouse, manifest, write_contract, floe)
