"""``TableView``: what floe's checks read of a table, parsed without ``pyiceberg.table``.

Every view must read as pyiceberg's own ``Table`` of the same metadata does: its name,
schemas, snapshots (ids, parents, times, manifest lists, summaries and operations), current
snapshot and FileIO; ``full()`` is that ``Table``. Real SQLite catalogs, real commits.
"""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo
from pyiceberg.types import StringType

from floe_core.iceberg import TableView
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.iceberg import catalog_config, create_table, local_catalog
from tests._factories import odcs, table_object

ORDERS = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("region", pa.string())])


def _plugin(config: dict[str, str]) -> Any:
    return PluginRegistry().create(PluginType.CATALOG, "sql", config)


def _lake(tmp_path: Path) -> tuple[Any, Any]:
    """``sales.orders``: two appends, a schema change, a delete; and the sql plugin."""
    catalog = local_catalog(tmp_path / "lake")
    table = create_table(catalog, "sales.orders", ORDERS)
    table.append(pa.table({"id": [1, 2], "region": ["eu", "us"]}, schema=ORDERS))
    table.append(pa.table({"id": [3], "region": ["eu"]}, schema=ORDERS))
    with table.update_schema() as update:
        update.add_column("note", StringType())
    table = catalog.load_table("sales.orders")
    table.delete(EqualTo("id", 3))
    return catalog, _plugin(catalog_config(tmp_path / "lake"))


def _same(view: TableView, table: Any) -> None:
    assert view.name() == table.name()
    assert view.metadata_location == table.metadata_location
    assert view.schema() == table.schema()
    assert view.metadata.schemas == table.metadata.schemas
    assert view.metadata.properties == table.metadata.properties
    assert type(view.io) is type(table.io)
    assert view.io.properties == table.io.properties
    theirs = {s.snapshot_id: s for s in table.metadata.snapshots}
    assert [s.snapshot_id for s in view.metadata.snapshots] == list(theirs)
    for snapshot in view.metadata.snapshots:
        their = theirs[snapshot.snapshot_id]
        assert snapshot.parent_snapshot_id == their.parent_snapshot_id
        assert snapshot.timestamp_ms == their.timestamp_ms
        assert snapshot.manifest_list == their.manifest_list
        assert snapshot.schema_id == their.schema_id
        assert snapshot.summary is not None
        assert their.summary is not None
        assert snapshot.summary.operation == their.summary.operation.value
        assert dict(snapshot.summary) == their.summary.additional_properties
        assert snapshot.manifests(view.io) == their.manifests(table.io)
    current = view.current_snapshot()
    assert current is not None
    assert current.snapshot_id == table.current_snapshot().snapshot_id
    assert [s.snapshot_id for s in view.metadata.ancestors(current)] == [
        s.snapshot_id for s in reversed(table.metadata.snapshots)
    ]


def _gzip_metadata(catalog: Any, database: Path) -> None:
    """Point the catalog at a gzip-compressed copy of the table's metadata, as writers that
    compress metadata leave it (``*.gz.metadata.json``)."""
    location = catalog.load_table("sales.orders").metadata_location
    source = Path(location.removeprefix("file://"))
    target = source.with_name("00099-compressed.gz.metadata.json")
    target.write_bytes(gzip.compress(source.read_bytes()))
    with sqlite3.connect(database) as con:
        con.execute("UPDATE iceberg_tables SET metadata_location = ?", (f"file://{target}",))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_view_reads_as_pyiceberg_reads_the_table(tmp_path: Path, compressed: bool) -> None:
    catalog, plugin = _lake(tmp_path)
    if compressed:
        _gzip_metadata(catalog, tmp_path / "lake" / "catalog.db")
    table = plugin.catalog().load_table("sales.orders")  # pyiceberg's SqlCatalog, same config
    assert table.metadata_location.endswith(".gz.metadata.json") == compressed

    view = plugin.load_view("sales.orders")

    _same(view, table)
    assert view.full().metadata == table.metadata
    assert view.full() is view.full()
    assert [t.file.file_path for t in view.scan().plan_files()] == [
        t.file.file_path for t in table.scan().plan_files()
    ]


def test_a_view_of_a_loaded_table_reads_the_same(tmp_path: Path) -> None:
    catalog, _ = _lake(tmp_path)
    table = catalog.load_table("sales.orders")

    view = TableView.of(table)

    _same(view, table)
    assert view.full() is table


def test_an_empty_table_has_no_current_snapshot(tmp_path: Path) -> None:
    catalog = local_catalog(tmp_path / "lake")
    create_table(catalog, "sales.orders", ORDERS)
    view = _plugin(catalog_config(tmp_path / "lake")).load_view("sales.orders")
    assert view.current_snapshot() is None
    assert view.metadata.snapshots == []
    assert view.schema() == catalog.load_table("sales.orders").schema()


def test_format_version_1_is_read_by_pyiceberg(tmp_path: Path) -> None:
    catalog = local_catalog(tmp_path / "lake")
    table = create_table(catalog, "sales.orders", ORDERS, properties={"format-version": "1"})
    table.append(pa.table({"id": [1], "region": ["eu"]}, schema=ORDERS))
    plugin = _plugin(catalog_config(tmp_path / "lake"))
    _same(plugin.load_view("sales.orders"), plugin.catalog().load_table("sales.orders"))


def test_a_one_off_check_loads_no_pyiceberg_table_module(
    tmp_path: Path, write_contract: Any
) -> None:
    """Neither pyiceberg.table (nor the pyparsing and strictyaml it brings), SQLAlchemy or
    pyarrow is loaded by a full ``floe sla check`` of a SQLite catalog's table."""
    _lake(tmp_path)
    manifest = tmp_path / "manifest.yaml"
    config = catalog_config(tmp_path / "lake")
    manifest.write_text(
        "apiVersion: floe.dev/v1\nkind: Manifest\nplugins:\n  catalog:\n    type: sql\n"
        "    config: {" + ", ".join(f"{k}: '{v}'" for k, v in config.items()) + "}\n"
    )
    columns = [
        {"name": "id", "logicalType": "integer", "required": True},
        {"name": "region", "logicalType": "string"},
        {"name": "note", "logicalType": "string"},
    ]
    rows = [{"type": "library", "metric": "rowCount", "mustBeGreaterThan": 0}]
    latency = [{"property": "latency", "value": 1, "unit": "d"}]
    contract = write_contract(odcs(table_object(properties=columns, quality=rows), sla=latency))
    script = (
        "import sys\n"
        "from floe_core.cli.main import cli\n"
        "try:\n"
        f"    cli.main(['sla', 'check', {str(contract)!r}, '--manifest', {str(manifest)!r},"
        " '--format', 'json', '--no-persist'], prog_name='floe')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "loaded = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        "print(code, sorted(loaded & {'pyiceberg.table', 'pyparsing', 'strictyaml',"
        " 'sqlalchemy', 'pyarrow'}), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.stderr.splitlines()[-1] == "0 []", run.stderr + run.stdout
