"""The built-in catalog plugins as floe uses them: created by the registry, read from threads."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from floe_core.monitoring.monitor import ContractMonitor
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType

ORDERS = pa.schema([pa.field("order_id", pa.int64(), nullable=False)])


@pytest.fixture
def in_memory() -> Any:
    """The built-in in-memory catalog plugin with table sales.orders in it."""
    plugin = PluginRegistry().create(PluginType.CATALOG, "in-memory", {"name": "scratch"})
    plugin.catalog().create_namespace("sales")
    plugin.catalog().create_table("sales.orders", schema=ORDERS)
    return plugin


def test_in_memory_catalog_is_shared_across_threads(in_memory: Any) -> None:
    assert in_memory.catalog_name == "scratch"
    with ThreadPoolExecutor(2) as pool:
        tables = pool.submit(in_memory.list_tables, "sales").result()
        schema = pool.submit(in_memory.table_schema, "sales.orders").result()
    assert tables == ["sales.orders"]
    assert [f.name for f in schema.fields] == ["order_id"]


def test_in_memory_catalogs_are_separate(in_memory: Any) -> None:
    other = PluginRegistry().create(PluginType.CATALOG, "in-memory", {"name": "scratch"})
    assert other.list_namespaces() == []


def test_monitor_checks_run_against_in_memory_catalog(in_memory: Any, tmp_path: Path) -> None:
    contract = tmp_path / "orders.yaml"
    properties = [{"name": "order_id", "logicalType": "integer", "required": True}]
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "orders-v1",
        "version": "1.0.0",
        "name": "orders",
        "schema": [{"name": "orders", "physicalName": "sales.orders", "properties": properties}],
    }
    contract.write_text(yaml.safe_dump(doc))
    monitor = ContractMonitor(catalog=in_memory)
    monitor.register(contract)
    report = asyncio.run(monitor.run("orders", ["schema_drift"]))
    [result] = report.results
    assert result.status.value == "pass", result.details
