"""Fixtures for the persistence tests: every test runs on SQLite and on PostgreSQL.

SQLite is a file in ``tmp_path``; PostgreSQL is a fresh database per test on the server the
suite uses (see ``tests/_state_fixtures.py``: ``$FLOE_TEST_POSTGRES_URL`` or a local one),
dropped afterwards. The schema is floe's own migrations, applied as ``open_state`` and
``floe sla db upgrade`` apply them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from sqlalchemy import func, select

from floe_core.config import MonitoringConfig
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.state.engine import open_state, upgrade
from floe_core.state.store import StateStore
from floe_core.testing.iceberg import catalog_config, create_table
from tests._factories import Clock, odcs, table_object
from tests._state_fixtures import fresh_postgres_database, require_postgres_server

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class StateDB:
    """One test's state database: its async URL, and a store on it whenever asked."""

    url: str
    backend: str

    @asynccontextmanager
    async def store(self) -> AsyncIterator[StateStore]:
        """A ``StateStore`` on a new engine (the schema migrated if missing), disposed after."""
        engine = await open_state(self.url, auto_upgrade=True)
        try:
            yield StateStore(engine)
        finally:
            await engine.dispose()

    def upgrade(self) -> None:
        """Create the schema as ``floe sla db upgrade`` does; the CLI upgrades only ./.floe/."""
        asyncio.run(upgrade(self.url))

    @staticmethod
    async def count(store: StateStore, model: type[Any]) -> int:
        """Rows in ``model``'s table."""
        async with store.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture(params=["sqlite", "postgresql"])
def state_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateDB]:
    """A fresh, empty state database on each backend."""
    if request.param == "sqlite":
        yield StateDB(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}", "sqlite")
        return
    with fresh_postgres_database(require_postgres_server()) as url:
        yield StateDB(url, "postgresql")


@dataclass
class StaleLake:
    """A real Iceberg table ``sales.orders`` whose only commit is old, and its contract."""

    catalog: Any
    warehouse: Path
    contract_path: Path
    manifest: Path
    committed: datetime
    clock: Clock = field(default_factory=Clock)

    def monitor(
        self, store: StateStore | None = None, config: MonitoringConfig | None = None
    ) -> ContractMonitor:
        """A monitor on this lake at ``clock``, persisting into ``store``; contract registered."""
        monitor = ContractMonitor(
            config,
            catalog=PluginSpec(type="sql", config=catalog_config(self.warehouse)),
            clock=self.clock,
            state=store,
        )
        monitor.register(self.contract_path)
        return monitor

    def hours_later(self, hours: float) -> datetime:
        """Set the clock ``hours`` after the commit."""
        self.clock.now = self.committed + timedelta(hours=hours)
        return self.clock.now


ORDERS = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("region", pa.string())])


@pytest.fixture
def stale_lake(
    catalog: Any, warehouse: Path, manifest: Path, write_contract: Callable[..., Path]
) -> StaleLake:
    """``sales.orders`` with one commit, and a contract with a 1 h freshness SLA."""
    table = create_table(catalog, "sales.orders", ORDERS)
    table.append(pa.table({"id": [1], "region": ["eu"]}, schema=ORDERS))
    snapshot = catalog.load_table("sales.orders").current_snapshot()
    committed = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC)
    columns = [
        {"name": "id", "physicalType": "long", "required": True},
        {"name": "region", "physicalType": "string"},
    ]
    sla = [{"property": "freshness", "value": "PT1H"}]
    contract = odcs(table_object("sales.orders", columns), version="1.2.0", sla=sla)
    path = write_contract(yaml.safe_dump(contract, sort_keys=False), "orders.yaml")
    return StaleLake(catalog, warehouse, path, manifest, committed)


EVENTS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


@pytest.fixture
def stale_contract(catalog: Any, write_contract: Callable[..., Path]) -> Path:
    """``sales.events`` whose newest row is 5 h old by the real clock; a 1 h latency SLA."""
    table = create_table(catalog, "sales.events", EVENTS)
    now = datetime.now(UTC)
    table.append(pa.table({"id": [1], "updated_at": [now - timedelta(hours=5)]}, schema=EVENTS))
    columns = [
        {"name": "id", "physicalType": "long", "required": True},
        {"name": "updated_at", "physicalType": "timestamptz"},
    ]
    sla = [{"property": "latency", "value": 1, "unit": "h", "element": "updated_at"}]
    contract = odcs(
        table_object("sales.events", columns, name="events"),
        name="events",
        version="2.0.0",
        sla=sla,
    )
    return write_contract(yaml.safe_dump(contract, sort_keys=False), "events.yaml")
