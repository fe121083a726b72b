"""Reading Iceberg table metadata fast: the newest data, the live files, local metadata files.

What the rest of floe calls (names load lazily, so importing one costs only what it needs):

- ``newest_data_commit(table)`` and ``newest_column_value(table, column, summaries=...)``:
  how new a table's data is, from snapshots or from manifest column bounds when they are exact
  (else a scan of that one column), as a ``Newest``; ``UnsupportedTable`` when it cannot be
  answered exactly. ``ManifestSummaries`` is the cache a long-lived caller passes from one
  call to the next, so each immutable manifest is read once.
- ``TableFacts().facts(table)``: the live data files of the current snapshot with their row
  counts, null counts and bounds (``DataFileFacts``), and the delete files that apply
  (``Facts``).
- ``find_field(schema, name)``: a field by its dotted name, exact case first.
- ``TableView`` (and ``as_view``): a table as floe's checks read it (name, schemas,
  snapshots, FileIO), parsed from its metadata without ``pyiceberg.table``; ``full()`` is
  the pyiceberg ``Table``. ``TableView.of(table)`` views a table pyiceberg has loaded.
- ``load_sqlite_view`` / ``load_sqlite_table(path, catalog_name, identifier, properties)``
  and ``ping_sqlite_catalog(path)``: a table of a SQLite-backed SQL catalog, looked up
  read-only with ``sqlite3`` (without SQLAlchemy), as a view or built as pyiceberg's
  ``SqlCatalog`` builds it.
- ``LocalMetadataFileIO``: the FileIO floe's catalogs hand pyiceberg, reading local metadata
  files with the standard library (no pyarrow).

Everything else here is private: the manifest list and manifest readers (``_manifests``) and
the projecting Avro decoder they use (``_avro*``: a plan per writer schema, run by the C
decoder of floe-speedups when installed, else by Python readers generated once per schema).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from floe_core._lazy import lazy_names

if TYPE_CHECKING:
    from floe_core.iceberg._fields import find_field
    from floe_core.iceberg._file_io import LocalMetadataFileIO
    from floe_core.iceberg._live_files import DataFileFacts, Facts, TableFacts
    from floe_core.iceberg._manifests import ManifestSummaries
    from floe_core.iceberg._newest import (
        Newest,
        UnsupportedTable,
        newest_column_value,
        newest_data_commit,
    )
    from floe_core.iceberg._sqlite_catalog import (
        load_sqlite_table,
        load_sqlite_view,
        ping_sqlite_catalog,
    )
    from floe_core.iceberg._view import TableView, as_view

_EXPORTS: dict[str, str] = {
    "DataFileFacts": "floe_core.iceberg._live_files",
    "Facts": "floe_core.iceberg._live_files",
    "LocalMetadataFileIO": "floe_core.iceberg._file_io",
    "ManifestSummaries": "floe_core.iceberg._manifests",
    "Newest": "floe_core.iceberg._newest",
    "TableFacts": "floe_core.iceberg._live_files",
    "UnsupportedTable": "floe_core.iceberg._newest",
    "find_field": "floe_core.iceberg._fields",
    "load_sqlite_table": "floe_core.iceberg._sqlite_catalog",
    "load_sqlite_view": "floe_core.iceberg._sqlite_catalog",
    "TableView": "floe_core.iceberg._view",
    "as_view": "floe_core.iceberg._view",
    "ping_sqlite_catalog": "floe_core.iceberg._sqlite_catalog",
    "newest_column_value": "floe_core.iceberg._newest",
    "newest_data_commit": "floe_core.iceberg._newest",
}

__all__ = [
    "DataFileFacts",
    "Facts",
    "LocalMetadataFileIO",
    "ManifestSummaries",
    "Newest",
    "TableFacts",
    "TableView",
    "UnsupportedTable",
    "as_view",
    "find_field",
    "load_sqlite_table",
    "load_sqlite_view",
    "newest_column_value",
    "newest_data_commit",
    "ping_sqlite_catalog",
]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
