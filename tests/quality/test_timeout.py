"""A scan that outlives check_timeout_seconds is stopped and its rules say ``timeout``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pyarrow as pa
import pytest

from floe_core.config import MonitoringConfig
from floe_core.events import CheckStatus, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.testing.iceberg import catalog_config

SCHEMA = pa.schema([pa.field("id", pa.int64())])
# Seconds of work for DuckDB on any machine: a cross join with three billion rows.
ENDLESS = "SELECT count(*) FROM ${table}, range(3000000000) r WHERE hash(r.range) % 7 = 0"


@pytest.mark.parametrize("switch", ["1", "0"], ids=["worker", "in-process"])
def test_a_scan_past_the_timeout_is_stopped_by_the_check_itself(
    lake: Any, switch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOE_DUCKDB_WORKER", switch)
    lake.table("shop.orders", SCHEMA, {"id": [1, 2, 3]})
    rules = [
        {"id": "endless", "type": "sql", "query": ENDLESS, "mustBe": 0},
        {"id": "after", "type": "sql", "query": "SELECT count(*) FROM ${table}", "mustBe": 3},
    ]
    contract = lake.contract(lake.obj("shop.orders", quality=rules))
    monitor = ContractMonitor(
        MonitoringConfig(check_timeout_seconds=2),
        catalog=PluginSpec(type="sql", config=catalog_config(lake.warehouse)),
    )
    name = monitor.register(lake.write_contract(contract)).contract_name

    started = time.monotonic()
    [result] = asyncio.run(monitor.run(name, [ViolationType.QUALITY])).results
    elapsed = time.monotonic() - started

    assert result.status is CheckStatus.ERROR
    by_rule = lake.rules(result)  # the check's own details: it did not run out of time itself
    assert (by_rule["endless"]["status"], by_rule["endless"]["reason"]) == ("error", "timeout")
    assert "check_timeout_seconds" in by_rule["endless"]["message"]
    assert by_rule["after"]["reason"] == "timeout"  # no time was left for it
    assert elapsed < 2.5
