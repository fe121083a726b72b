"""Build real Iceberg tables in a local SQLite-backed pyiceberg catalog."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.typedef import Record


def local_catalog(directory: Path, name: str = "floe") -> SqlCatalog:
    """A SQL catalog on ``directory/catalog.db`` with its warehouse in ``directory/warehouse``."""
    from pyiceberg.catalog.sql import SqlCatalog

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "warehouse").mkdir(exist_ok=True)
    return SqlCatalog(
        name,
        uri=f"sqlite:///{directory.absolute() / 'catalog.db'}",
        warehouse=(directory.absolute() / "warehouse").as_uri(),
    )


def catalog_config(directory: Path, name: str = "floe") -> dict[str, str]:
    """The ``plugins.catalog.config`` that reaches ``local_catalog(directory, name)``."""
    return {
        "name": name,
        "uri": f"sqlite:///{directory.absolute() / 'catalog.db'}",
        "warehouse": (directory.absolute() / "warehouse").as_uri(),
    }


def create_table(
    catalog: SqlCatalog,
    identifier: str,
    schema: Schema | pa.Schema,
    *,
    properties: dict[str, str] | None = None,
    replace: bool = True,
) -> Table:
    """Create ``namespace.table`` (and its namespace), dropping an existing one if ``replace``."""
    namespace = identifier.rsplit(".", 1)[0]
    catalog.create_namespace_if_not_exists(namespace)
    if replace and catalog.table_exists(identifier):
        catalog.drop_table(identifier)
    props = {"format-version": "2", **(properties or {})}
    return catalog.create_table(identifier, schema=schema, properties=props)


def add_position_deletes(
    table: Table, data_file_path: str, positions: list[int], partition: Record | None = None
) -> None:
    """Commit a positional delete file removing ``positions`` (0-based rows) of a data file.

    pyiceberg cannot write merge-on-read deletes itself; this writes the delete file the way
    Spark, Flink or Trino would, then commits it with a fast append. In a partitioned table,
    pass the data file's ``partition``.
    """
    import pyarrow as pa

    rows = pa.table(
        {
            "file_path": pa.array([data_file_path] * len(positions), pa.string()),
            "pos": pa.array(sorted(positions), pa.int64()),
        }
    )
    _commit_delete_file(table, rows, None, partition)


def add_equality_deletes(
    table: Table, rows: pa.Table, equality_field_ids: list[int], partition: Record | None = None
) -> None:
    """Commit an equality delete file (rows matching ``rows`` on the given fields are deleted)."""
    _commit_delete_file(table, rows, equality_field_ids, partition)


def _commit_delete_file(
    table: Table, rows: pa.Table, equality_ids: list[int] | None, partition: Record | None
) -> None:
    import pyarrow.parquet as pq
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
    from pyiceberg.typedef import Record

    location = f"{table.location()}/data/delete-{uuid.uuid4()}.parquet"
    local = location.removeprefix("file://")
    pq.write_table(rows, local)
    content = (
        DataFileContent.POSITION_DELETES
        if equality_ids is None
        else DataFileContent.EQUALITY_DELETES
    )
    extra: dict[str, Any] = {"equality_ids": equality_ids} if equality_ids is not None else {}
    delete_file = DataFile.from_args(
        content=content,
        file_path=location,
        file_format=FileFormat.PARQUET,
        partition=partition if partition is not None else Record(),
        record_count=rows.num_rows,
        file_size_in_bytes=Path(local).stat().st_size,
        **extra,
    )
    with table.transaction() as tx, tx.update_snapshot().fast_append() as append:
        append.append_data_file(delete_file)
