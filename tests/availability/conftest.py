"""Fixtures for the availability tests: a real SQLite-backed catalog whose table can be taken
away and brought back, a monitor on a clock the test moves, and contracts to probe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from floe_core.contracts.loader import parse_contract
from floe_core.contracts.model import DataContract
from floe_core.events import CheckReport, CheckResult, ViolationType
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.plugins.pyiceberg_catalogs import SqlCatalogPlugin
from floe_core.testing.iceberg import catalog_config, create_table
from tests._factories import ORDERS_PROPERTIES, Clock, odcs, table_object

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
TABLE = "sales.orders"
ORDERS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class Lake:
    """A real SQLite-backed Iceberg catalog with table ``sales.orders`` to take away and back."""

    catalog: Any
    warehouse: Path
    clock: Clock = field(default_factory=Clock)

    def up(self, identifier: str = TABLE) -> None:
        """Create ``identifier`` with one row, unless it is there."""
        if not self.catalog.table_exists(identifier):
            table = create_table(self.catalog, identifier, ORDERS)
            table.append(pa.table({"id": [1], "updated_at": [self.clock.now]}, schema=ORDERS))

    def down(self, identifier: str = TABLE) -> None:
        """Drop ``identifier``, so that loading its metadata fails."""
        if self.catalog.table_exists(identifier):
            self.catalog.drop_table(identifier)

    @staticmethod
    def availability(value: Any, unit: str | None = None) -> dict[str, Any]:
        """An ``availability`` entry for ``slaProperties``."""
        entry: dict[str, Any] = {"property": "availability", "value": value}
        if unit is not None:
            entry["unit"] = unit
        return entry

    @staticmethod
    def contract(
        sla: Iterable[dict[str, Any]] = (),
        *,
        name: str = "orders",
        tables: Iterable[str] = (TABLE,),
        properties: bool = False,
    ) -> DataContract:
        """An ODCS v3 contract over ``tables``, loaded the way ``floe`` loads one."""
        objects = [
            table_object(
                table, ORDERS_PROPERTIES if properties else None, name=table.split(".")[-1]
            )
            for table in tables
        ]
        doc = odcs(*objects, name=name, id=f"{name}-v1", sla=sla)
        return parse_contract(yaml.safe_dump(doc, sort_keys=False))

    def catalog_plugin(self) -> SqlCatalogPlugin:
        """The built-in ``sql`` catalog plugin reading this lake."""
        return SqlCatalogPlugin(catalog_config(self.warehouse))

    def monitor(self, *contracts: DataContract, **kwargs: Any) -> ContractMonitor:
        """A monitor on this lake and this clock, with ``contracts`` registered."""
        kwargs.setdefault("catalog", self.catalog_plugin())
        monitor = ContractMonitor(kwargs.pop("config", None), clock=self.clock, **kwargs)
        for one in contracts:
            monitor.register(one)
        return monitor

    def probe(
        self,
        monitor: ContractMonitor,
        name: str = "orders",
        *,
        times: int = 1,
        every: timedelta = timedelta(minutes=5),
    ) -> CheckResult:
        """Run only the availability check ``times`` times, ``every`` apart; the last result."""
        result: CheckResult | None = None
        for _ in range(times):
            self.clock.advance(every)
            [result] = asyncio.run(monitor.check(name, [ViolationType.AVAILABILITY]))
        assert result is not None
        return result

    def run(self, monitor: ContractMonitor, name: str = "orders") -> CheckReport:
        """Run every check of ``monitor`` once, five minutes on."""
        self.clock.advance(timedelta(minutes=5))
        return asyncio.run(monitor.run(name))


@pytest.fixture
def lake(catalog: Any, warehouse: Path) -> Lake:
    """A fresh lake per test, with ``sales.orders`` present."""
    made = Lake(catalog, warehouse)
    made.up()
    return made


@pytest.fixture
def by_type() -> Callable[[CheckReport], dict[str, CheckResult]]:
    """A report's results keyed by check type value."""

    def results(report: CheckReport) -> dict[str, CheckResult]:
        return {r.check_type.value: r for r in report.results}

    return results
