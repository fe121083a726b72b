"""Tables of a SQLite-backed SQL catalog, looked up with sqlite3: the same tables pyiceberg loads.

The ``sql`` catalog plugin reads a SQLite catalog's ``iceberg_tables`` itself (read only,
without SQLAlchemy); every table it returns must be the one pyiceberg's ``SqlCatalog`` returns,
and every table it cannot find one that catalog cannot find either.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.exceptions import NoSuchTableError

from floe_core.errors import CatalogConnectionError, TableNotFoundError
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.iceberg import catalog_config, create_table, local_catalog

ORDERS = pa.schema([pa.field("order_id", pa.int64(), nullable=False)])


def _plugin(config: dict[str, str]) -> Any:
    return PluginRegistry().create(PluginType.CATALOG, "sql", config)


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Any, dict[str, str]]:
    """A pyiceberg SqlCatalog with sales.orders (two snapshots) and its floe config."""
    catalog = local_catalog(tmp_path / "lake")
    create_table(catalog, "sales.orders", ORDERS)
    for ids in ([1, 2], [3]):
        table = catalog.load_table("sales.orders")
        table.append(pa.table({"order_id": ids}, schema=ORDERS))
    return catalog, catalog_config(tmp_path / "lake")


def _database(config: dict[str, str]) -> Path:
    return Path(config["uri"].removeprefix("sqlite:///"))


def test_a_table_is_the_one_pyiceberg_loads(lake: tuple[Any, dict[str, str]]) -> None:
    _, config = lake
    plugin = _plugin(config)
    expected = plugin.catalog().load_table("sales.orders")  # pyiceberg's SqlCatalog, same config
    table = plugin.load_table("sales.orders")
    assert table.name() == expected.name() == ("sales", "orders")
    assert table.metadata_location == expected.metadata_location
    assert table.metadata == expected.metadata
    assert table.current_snapshot() == expected.current_snapshot()
    assert type(table.io) is type(expected.io)
    assert table.io.properties == expected.io.properties
    assert len(list(table.scan().plan_files())) == 2


def test_the_lookup_writes_nothing_and_needs_no_sqlalchemy(
    lake: tuple[Any, dict[str, str]],
) -> None:
    _, config = lake
    database = _database(config)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    script = (
        "import sys\n"
        "from floe_core.plugins.registry import PluginRegistry\n"
        "from floe_core.plugins.types import PluginType\n"
        f"plugin = PluginRegistry().create(PluginType.CATALOG, 'sql', {config!r})\n"
        "plugin.reach()\n"
        "print(plugin.load_table('sales.orders').current_snapshot().snapshot_id)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    snapshot, modules = run.stdout.splitlines()
    assert int(snapshot) > 0
    assert modules == "[]"
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_a_missing_table_is_not_found(lake: tuple[Any, dict[str, str]]) -> None:
    catalog, config = lake
    with pytest.raises(NoSuchTableError):
        catalog.load_table("sales.refunds")
    with pytest.raises(TableNotFoundError, match=re.escape("sales.refunds")):
        _plugin(config).load_table("sales.refunds")


def test_tables_are_kept_per_catalog_name(lake: tuple[Any, dict[str, str]]) -> None:
    _, config = lake
    with pytest.raises(TableNotFoundError, match=re.escape("config.name must be the name")):
        _plugin({**config, "name": "other"}).load_table("sales.orders")


def test_a_view_row_is_not_a_table(lake: tuple[Any, dict[str, str]]) -> None:
    catalog, config = lake
    with sqlite3.connect(_database(config)) as con:  # as iceberg-java writes a view
        con.execute(
            "INSERT INTO iceberg_tables VALUES (?, 'sales', 'daily', ?, NULL, 'VIEW')",
            (config["name"], catalog.load_table("sales.orders").metadata_location),
        )
    with pytest.raises(NoSuchTableError):
        catalog.load_table("sales.daily")
    with pytest.raises(TableNotFoundError, match=re.escape("sales.daily")):
        _plugin(config).load_table("sales.daily")


def test_a_v0_catalog_without_the_type_column_is_read(tmp_path: Path) -> None:
    database = tmp_path / "v0.db"
    catalog = local_catalog(tmp_path / "lake")
    create_table(catalog, "sales.orders", ORDERS)
    location = catalog.load_table("sales.orders").metadata_location
    with sqlite3.connect(database) as con:  # the layout before pyiceberg 0.10 recorded types
        con.execute(
            "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255), table_namespace "
            "VARCHAR(255), table_name VARCHAR(255), metadata_location VARCHAR(1000), "
            "previous_metadata_location VARCHAR(1000))"
        )
        con.execute(
            "INSERT INTO iceberg_tables VALUES ('v0', 'sales', 'orders', ?, NULL)", (location,)
        )
    table = _plugin({"name": "v0", "uri": f"sqlite:///{database}"}).load_table("sales.orders")
    assert table.metadata_location == location


def test_a_database_without_catalog_tables_holds_no_table(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()
    plugin = _plugin({"name": "floe", "uri": f"sqlite:///{database}"})
    plugin.reach()
    with pytest.raises(TableNotFoundError):
        plugin.load_table("sales.orders")
    with sqlite3.connect(database) as con:  # floe only reads catalogs: nothing was created
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_file_that_is_no_database_is_unreachable(tmp_path: Path) -> None:
    database = tmp_path / "catalog.db"
    database.write_text("not a database, a text file\n" * 100)
    plugin = _plugin({"name": "floe", "uri": f"sqlite:///{database}"})
    with pytest.raises(CatalogConnectionError, match="Could not connect to sql catalog 'floe'"):
        plugin.reach()
    failed = re.escape("failed to load table 'sales.orders'")
    with pytest.raises(CatalogConnectionError, match=failed):
        plugin.load_table("sales.orders")


def test_an_identifier_without_namespace_fails_as_in_pyiceberg(
    lake: tuple[Any, dict[str, str]],
) -> None:
    catalog, config = lake
    with pytest.raises(ValueError, match="Empty namespace"):
        catalog.load_table("orders")
    with pytest.raises(CatalogConnectionError, match="Empty namespace"):
        _plugin(config).load_table("orders")


def test_a_monitors_ping_of_a_sqlite_catalog_reads_only(tmp_path: Path) -> None:
    """pyiceberg's SqlCatalog creates its tables in a file that lacks them when it connects;
    the readiness ping of ``floe sla monitor`` is a read-only round trip instead."""
    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()
    _plugin({"name": "floe", "uri": f"sqlite:///{database}"}).ping()
    with sqlite3.connect(database) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)

    broken = tmp_path / "broken.db"
    broken.write_text("not a database, a text file\n" * 100)
    with pytest.raises(CatalogConnectionError, match="Could not connect to sql catalog 'floe'"):
        _plugin({"name": "floe", "uri": f"sqlite:///{broken}"}).ping()
