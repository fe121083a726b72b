"""Where a scan reads a table from: its Parquet files directly, or pyiceberg's Arrow batches.

DuckDB reads the live data files itself only when that is exact: no delete file applies, every
file is local Parquet, and the columns read have the same names (unsanitized) and types in
every schema the table has had. Otherwise pyiceberg streams the rows, positional deletes
applied and columns matched by field id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from floe_core.quality.columns import Column, unstable_names

if TYPE_CHECKING:
    from floe_core.iceberg import Facts, TableView


@dataclass(frozen=True)
class Source:
    """What the scan reads, under which DuckDB name, and why not the Parquet files if not."""

    kind: Literal["parquet", "pyiceberg", "empty"]
    relation: str
    files: tuple[str, ...] = ()
    reason: str | None = None


def choose_source(table: TableView, facts: Facts, columns: list[Column], *, every: bool) -> Source:
    """The source for reading ``columns`` (``every`` column, for sql rules) of the table."""
    from pyiceberg.schema import make_compatible_name

    relation = make_compatible_name(table.name()[-1])  # the table's name, if a plain one
    if not facts.data_files:
        return Source("empty", relation)
    read = every_column(table) if every else columns
    files, reason = _parquet_files(table, facts, read)
    return Source("parquet" if files else "pyiceberg", relation, tuple(files), reason)


def every_column(table: TableView) -> list[Column]:
    """Every top-level column of the current schema."""
    return [Column(f.name, (f.name,), f.field_id, f.field_type) for f in table.schema().fields]


def cheapest_column(table: TableView) -> str:
    """A column to read when a scan only counts rows (pyiceberg reads none for no columns)."""
    from pyiceberg.types import PrimitiveType

    fields = table.schema().fields
    return next((f.name for f in fields if isinstance(f.field_type, PrimitiveType)), fields[0].name)


def _parquet_files(
    table: TableView, facts: Facts, columns: list[Column]
) -> tuple[list[str], str | None]:
    if facts.deletes:
        return [], f"{facts.deletes} delete file(s) apply; pyiceberg applies them"
    paths = []
    for data_file in facts.data_files:
        path = data_file.path.removeprefix("file://")
        if not data_file.parquet or "://" in path:
            return [], f"data file {data_file.path} is not a local Parquet file"
        paths.append(path)
    if not os.path.exists(paths[0]):
        return [], f"data file {facts.data_files[0].path} is not at {paths[0]}"
    unstable = unstable_names(table.metadata.schemas, columns)
    if unstable:
        return [], f"{unstable}; pyiceberg reads the Parquet files by field id"
    return paths, None
