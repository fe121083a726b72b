"""Tables of a SQLite-backed Iceberg SQL catalog, looked up with the standard library.

pyiceberg's ``SqlCatalog`` (the layout of Iceberg's ``JdbcCatalog``) keeps one row per table
in ``iceberg_tables``: the catalog name, the dot-joined namespace, the table name and the
location of the table's current metadata file. Loading a table is one lookup of that row,
then reading the metadata file. pyiceberg makes the lookup through SQLAlchemy's ORM, whose
import is about a third of a one-off ``floe sla check``; here the same row is read with
``sqlite3``, read-only, with the same filter (rows that are views are not tables). The
metadata file is read into floe's ``TableView``, whose pyiceberg table is built as pyiceberg's
catalog builds it, from the same document, when asked for. Nothing is created or written: a
catalog file without the catalog's tables simply has no tables.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe_core.iceberg._view import TableView, parse_metadata, read_metadata

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.typedef import Properties

BUSY_TIMEOUT_SECONDS = 5.0  # a writer holding the catalog's lock, as SQLAlchemy's default

_LOOKUP = (
    "SELECT metadata_location FROM iceberg_tables "
    "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?"
)
# pyiceberg's v1 catalog layout records what a row is; iceberg-java and iceberg-rust write
# views there too. A v0 catalog has no such column, and no views.
_TABLES_ONLY = " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite file ``path`` (which must exist)."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)


def ping_sqlite_catalog(path: Path) -> None:
    """One round trip to the catalog file: ``sqlite3.DatabaseError`` if it is no database."""
    with closing(connect_read_only(path)) as con:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()


def metadata_location(path: Path, catalog_name: str, namespace: str, name: str) -> str | None:
    """The current metadata file of table ``namespace.name``, or None when there is none."""
    arguments = (catalog_name, namespace, name)
    with closing(connect_read_only(path)) as con:
        try:
            row = con.execute(_LOOKUP + _TABLES_ONLY, arguments).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None  # the catalog's tables were never created: it holds no table
            if "no such column" not in str(exc):
                raise
            row = con.execute(_LOOKUP, arguments).fetchone()  # a v0 catalog
    return str(row[0]) if row and row[0] else None


def load_sqlite_view(
    path: Path, catalog_name: str, identifier: str, properties: Properties
) -> TableView:
    """Table ``identifier`` of the SQL catalog ``catalog_name`` kept in the SQLite file
    ``path``, as floe's checks read it (its ``full()`` is the table pyiceberg's catalog
    builds). ``properties`` are the catalog's, as pyiceberg's ``SqlCatalog`` would hold them.

    Raises pyiceberg's ``NoSuchTableError`` (and, for an identifier without a namespace,
    the ``ValueError`` of pyiceberg's catalogs) exactly where that catalog does.
    """
    from pyiceberg.io import load_file_io

    namespace, name = _split(identifier)
    location = metadata_location(path, catalog_name, namespace, name)
    if location is None:
        from pyiceberg.exceptions import NoSuchTableError

        raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")
    names = (*namespace.split("."), name)
    document = read_metadata(load_file_io(properties=properties, location=location), location)
    views: list[TableView] = []

    def full() -> Table:
        return _table(names, location, document, catalog_name, properties)

    metadata = parse_metadata(document, lambda snapshot_id: _snapshot(views[0], snapshot_id))
    if metadata is None:
        return TableView.of(full())
    io = load_file_io({**properties, **metadata.properties}, location)
    views.append(TableView(names, location, metadata, io, full))
    return views[0]


def load_sqlite_table(
    path: Path, catalog_name: str, identifier: str, properties: Properties
) -> Table:
    """``load_sqlite_view(...)``'s pyiceberg ``Table``."""
    return load_sqlite_view(path, catalog_name, identifier, properties).full()


def _split(identifier: str) -> tuple[str, str]:
    """``identifier``'s namespace (dot-joined) and name, checked as pyiceberg's catalogs do."""
    *namespace, name = identifier.split(".")
    if not namespace:
        raise ValueError("Empty namespace identifier")
    if any(part.strip() == "" for part in namespace):
        raise ValueError(
            "Namespace identifier contains an empty segment or a segment with only whitespace"
        )
    return ".".join(part.strip() for part in namespace), name


def _table(
    names: tuple[str, ...],
    location: str,
    document: dict[str, Any],
    catalog_name: str,
    properties: Properties,
) -> Table:
    """The table as pyiceberg's ``SqlCatalog`` builds it, from the metadata already read."""
    from pyiceberg.catalog.noop import NoopCatalog
    from pyiceberg.io import load_file_io
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadataUtil

    metadata = TableMetadataUtil.parse_obj(document)
    return Table(
        identifier=names,
        metadata=metadata,
        metadata_location=location,
        io=load_file_io({**properties, **metadata.properties}, location),
        catalog=NoopCatalog(catalog_name, **properties),
    )


def _snapshot(view: TableView, snapshot_id: int) -> Any:
    snapshot = view.full().snapshot_by_id(snapshot_id)
    assert snapshot is not None, f"snapshot {snapshot_id} is in the metadata"
    return snapshot
