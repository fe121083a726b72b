"""Fixtures for the check tests: a ``lake`` that builds real Iceberg tables and checks them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from floe_core.config import MonitoringConfig
from floe_core.events import CheckReport, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.checks.base import Check
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.testing.iceberg import catalog_config, create_table

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Lake:
    """A real SQLite-backed Iceberg catalog, with shortcuts to build tables and check contracts."""

    catalog: Any
    warehouse: Path
    manifest: Path
    write_contract: Callable[..., Path]
    floe: Callable[..., Any]

    # Tables ------------------------------------------------------------------------------

    def table(
        self,
        identifier: str,
        schema: Any,
        rows: Mapping[str, list[Any]] | None = None,
        *,
        properties: dict[str, str] | None = None,
    ) -> Any:
        """Create ``identifier`` (format v2) and, if ``rows`` are given, append them."""
        create_table(self.catalog, identifier, schema, properties=properties)
        if rows is not None:
            self.append(identifier, rows)
        return self.catalog.load_table(identifier)

    def append(self, identifier: str, rows: Mapping[str, list[Any]]) -> Any:
        """Append ``rows`` (column name -> values) as one new data file; return the table."""
        table = self.catalog.load_table(identifier)
        table.append(pa.table(dict(rows), schema=table.schema().as_arrow()))
        return self.catalog.load_table(identifier)

    def load(self, identifier: str) -> Any:
        """The table as the catalog has it now."""
        return self.catalog.load_table(identifier)

    def committed(self, identifier: str) -> datetime:
        """When the table's current snapshot was committed, as floe reads it."""
        return _EPOCH + timedelta(
            milliseconds=self.load(identifier).current_snapshot().timestamp_ms
        )

    def compact(self, identifier: str) -> None:
        """Rewrite every live data file into one, committed as a ``replace`` snapshot.

        That is what Spark's ``rewrite_data_files`` commits. pyiceberg has no compaction API and
        its summary code only knows append, overwrite and delete, so the summary is relabelled.
        """
        from pyiceberg.io.pyarrow import _dataframe_to_data_files
        from pyiceberg.table.snapshots import Operation, Summary
        from pyiceberg.table.update.snapshot import _OverwriteFiles

        class RewriteFiles(_OverwriteFiles):
            def _summary(self, snapshot_properties: Any = None) -> Summary:
                counted = super()._summary(snapshot_properties or {})
                return Summary(Operation.REPLACE, **counted.additional_properties)

        table = self.load(identifier)
        old_files = [task.file for task in table.scan().plan_files()]
        rows = table.scan().to_arrow()
        with (
            table.transaction() as tx,
            RewriteFiles(operation=Operation.OVERWRITE, transaction=tx, io=table.io) as rewrite,
        ):
            for data_file in old_files:
                rewrite.delete_data_file(data_file)
            for data_file in _dataframe_to_data_files(
                table_metadata=tx.table_metadata, df=rows, io=table.io
            ):
                rewrite.append_data_file(data_file)

    # Contracts ---------------------------------------------------------------------------

    @staticmethod
    def contract(
        *objects: dict[str, Any],
        sla: Iterable[dict[str, Any]] = (),
        name: str = "orders",
    ) -> dict[str, Any]:
        """An ODCS v3 contract document with the given schema objects and SLA properties."""
        doc: dict[str, Any] = {
            "apiVersion": "v3.1.0",
            "kind": "DataContract",
            "id": f"{name}-contract",
            "name": name,
            "version": "1.2.0",
            "status": "active",
            "schema": list(objects),
        }
        if sla:
            doc["slaProperties"] = list(sla)
        return doc

    @staticmethod
    def obj(
        name: str, table: str, properties: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A schema object describing Iceberg table ``table`` (``namespace.table``)."""
        obj: dict[str, Any] = {"name": name, "physicalName": table, "physicalType": "table"}
        if properties is not None:
            obj["properties"] = properties
        return obj

    # Running checks -------------------------------------------------------------------------

    def monitor(
        self,
        *,
        now: datetime | None = None,
        config: MonitoringConfig | None = None,
        checks: Mapping[ViolationType, Check] | None = None,
    ) -> ContractMonitor:
        """A monitor reading this lake through the registered ``sql`` catalog plugin."""
        kwargs: dict[str, Any] = {}
        if now is not None:
            kwargs["clock"] = lambda: now
        return ContractMonitor(
            config,
            catalog=PluginSpec(type="sql", config=catalog_config(self.warehouse)),
            checks=checks,
            **kwargs,
        )

    def run(
        self,
        contract: dict[str, Any],
        *,
        now: datetime | None = None,
        config: MonitoringConfig | None = None,
        checks: Mapping[ViolationType, Check] | None = None,
        types: Iterable[ViolationType | str] | None = None,
    ) -> CheckReport:
        """Write ``contract`` to a YAML file, register it and run the checks ``types``."""
        monitor = self.monitor(now=now, config=config, checks=checks)
        registered = monitor.register(self.write_contract(contract))
        return asyncio.run(monitor.run(registered.contract_name, types))

    def cli(self, contract: dict[str, Any], *args: str) -> tuple[Any, dict[str, Any] | None]:
        """``floe sla check CONTRACT --manifest M --format json ARGS``: result and parsed JSON."""
        path = self.write_contract(contract)
        result = self.floe(
            "sla", "check", path, "--manifest", self.manifest, "--format", "json", *args
        )
        document = json.loads(result.stdout) if result.stdout.strip() else None
        return result, document


@pytest.fixture
def lake(
    catalog: Any,
    warehouse: Path,
    manifest: Path,
    write_contract: Callable[..., Path],
    floe: Callable[..., Any],
) -> Lake:
    """A fresh lake per test."""
    return Lake(catalog, warehouse, manifest, write_contract, floe)
