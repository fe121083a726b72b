"""The FileIO floe's catalogs hand pyiceberg: local metadata without pyarrow, the rest delegated."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO

from floe_core.iceberg._file_io import LocalInputFile, LocalMetadataFileIO
from floe_core.iceberg._manifests import read_live_files, read_manifest_list
from floe_core.plugins.pyiceberg_catalogs import RestCatalogPlugin, SqlCatalogPlugin
from floe_core.testing.iceberg import catalog_config, create_table

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["a", "b", None])})


@pytest.fixture
def orders(catalog: Any) -> Any:
    """sales.orders with two appends, written by pyiceberg's own catalog and FileIO."""
    table = create_table(catalog, "sales.orders", ROWS.schema)
    table.append(ROWS)
    table.append(ROWS)
    return table


def test_local_metadata_is_read_without_pyarrow_and_data_files_through_it(
    orders: Any, warehouse: Path
) -> None:
    table = SqlCatalogPlugin(catalog_config(warehouse)).load_table("sales.orders")
    io = table.io
    assert isinstance(io, LocalMetadataFileIO)
    snapshot = table.current_snapshot()
    assert isinstance(io.new_input(table.metadata_location), LocalInputFile)
    assert isinstance(io.new_input(snapshot.manifest_list), LocalInputFile)
    # What floe reads is what pyiceberg's PyArrowFileIO reads.
    manifests = read_manifest_list(io, snapshot)
    assert manifests == read_manifest_list(PyArrowFileIO(), snapshot)
    files = [f for m in manifests for f in read_live_files(io, m)]
    assert len(files) == 2
    data = io.new_input(files[0].file_path)
    assert isinstance(data, PyArrowFile)  # Parquet goes to the FileIO pyiceberg would pick
    scanned = table.scan().to_arrow().sort_by("id")
    assert scanned.equals(pa.concat_tables([ROWS, ROWS]).sort_by("id"))


def test_local_input_file_behaves_like_pyiceberg_s(orders: Any, tmp_path: Path) -> None:
    location = orders.metadata_location
    local = LocalMetadataFileIO().new_input(location)
    theirs = PyArrowFileIO().new_input(location)
    assert len(local) == len(theirs)
    assert local.exists()
    assert local.location == location
    with local.open() as mine, theirs.open() as reference:
        assert mine.read() == reference.read()
    missing = LocalMetadataFileIO().new_input((tmp_path / "gone.metadata.json").as_uri())
    assert not missing.exists()
    with pytest.raises(FileNotFoundError):
        missing.open()
    relative = LocalMetadataFileIO().new_input("v1.metadata.json")
    assert isinstance(relative, LocalInputFile)
    assert relative._path == str(Path("v1.metadata.json").absolute())


@pytest.mark.parametrize("accelerated", [True, False], ids=["c", "python"])
def test_read_bytes_reads_local_metadata_whole_and_delegates_the_rest(
    orders: Any,
    tmp_path: Path,
    accelerated: bool,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    from floe_core import _speedups

    if accelerated:
        request.getfixturevalue("speedups")
    else:
        monkeypatch.setattr(_speedups, "_accelerated", None)
    io = LocalMetadataFileIO()
    for location in (orders.metadata_location, orders.current_snapshot().manifest_list):
        with PyArrowFileIO().new_input(location).open() as reference:
            assert io.read_bytes(location) == reference.read()
    large = tmp_path / "large.avro"  # more than one read's worth, and a size not a multiple
    large.write_bytes(bytes(range(256)) * 1000 + b"tail")
    assert io.read_bytes(large.as_uri()) == large.read_bytes()
    assert io.read_bytes(str(large)) == large.read_bytes()  # a plain path, as pyiceberg allows
    data = tmp_path / "rows.parquet"  # not a metadata file: read by the delegate
    data.write_bytes(b"PAR1 not really")
    assert io.read_bytes(data.as_uri()) == b"PAR1 not really"
    assert "file" in io._delegates
    with pytest.raises(FileNotFoundError):
        io.read_bytes((tmp_path / "gone.avro").as_uri())


def test_writes_go_through_the_delegate(warehouse: Path, catalog: Any) -> None:
    catalog.create_namespace("sales")
    plugin = SqlCatalogPlugin(catalog_config(warehouse))
    table = plugin.catalog().create_table("sales.events", schema=ROWS.schema)
    assert isinstance(table.io, LocalMetadataFileIO)
    table.append(ROWS)
    assert plugin.load_table("sales.events").scan().to_arrow().num_rows == 3


def test_a_file_io_named_in_the_config_wins(orders: Any, warehouse: Path) -> None:
    config = {**catalog_config(warehouse), "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
    assert isinstance(SqlCatalogPlugin(config).load_table("sales.orders").io, PyArrowFileIO)


def test_rest_catalogs_keep_the_server_s_file_io() -> None:
    # A REST server's config defaults may name the FileIO; floe sets none that would win.
    props = RestCatalogPlugin({"name": "r", "uri": "http://127.0.0.1:1"})._properties()
    assert "py-io-impl" not in props


PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from floe_core.monitoring.monitor import ContractMonitor

    monitor = ContractMonitor.from_manifest(sys.argv[1])
    monitor.register(sys.argv[2])
    report = asyncio.run(monitor.run("orders", ["freshness", "schema_drift", "quality"]))
    print(json.dumps({
        "statuses": {r.check_type.value: r.status.value for r in report.results},
        "pyarrow": sorted(m for m in sys.modules if m.split(".")[0] == "pyarrow"),
    }))
    """
)


def test_metadata_only_checks_never_import_pyarrow(
    orders: Any, manifest: Path, tmp_path: Path
) -> None:
    contract = tmp_path / "orders.yaml"
    properties = [
        {"name": "id", "logicalType": "integer", "physicalType": "long"},
        {"name": "name", "logicalType": "string", "physicalType": "string"},
    ]
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "orders",
        "name": "orders",
        "version": "1.0.0",
        "schema": [
            {
                "name": "orders",
                "physicalName": "sales.orders",
                "properties": properties,
                "quality": [{"type": "library", "metric": "rowCount", "mustBe": 6}],
            }
        ],
        "slaProperties": [{"property": "latency", "value": 1, "unit": "d"}],
    }
    contract.write_text(yaml.safe_dump(doc))
    command = [sys.executable, "-c", PROBE, str(manifest), str(contract)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["statuses"] == {"freshness": "pass", "schema_drift": "pass", "quality": "pass"}
    assert found["pyarrow"] == []
