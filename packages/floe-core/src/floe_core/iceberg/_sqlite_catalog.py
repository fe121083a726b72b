"""Tables of a SQLite-backed Iceberg SQL catalog, looked up with the standard library.

pyiceberg's ``SqlCatalog`` (the layout of Iceberg's ``JdbcCatalog``) keeps one row per table
in ``iceberg_tables``: the catalog name, the dot-joined namespace, the table name and the
location of the table's current metadata file. Loading a table is one lookup of that row,
then reading the metadata file. pyiceberg makes the lookup through SQLAlchemy's ORM, whose
import is about a third of a one-off ``floe sla check``; here the same row is read with
``sqlite3``, read-only, with the same filter (rows that are views are not tables), and the
table is built as pyiceberg's catalog builds it. Nothing is created or written: a catalog file
without the catalog's tables simply has no tables.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.noop import NoopCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io import load_file_io
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import Table

if TYPE_CHECKING:
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


def load_sqlite_table(
    path: Path, catalog_name: str, identifier: str, properties: Properties
) -> Table:
    """Table ``identifier`` of the SQL catalog ``catalog_name`` kept in the SQLite file ``path``.

    ``properties`` are the catalog's, as pyiceberg's ``SqlCatalog`` would hold them. Raises
    pyiceberg's ``NoSuchTableError`` (and, for an identifier without a namespace, its
    ``ValueError``) exactly where that catalog does.
    """
    namespace = Catalog.namespace_to_string(Catalog.namespace_from(identifier))
    name = Catalog.table_name_from(identifier)
    location = metadata_location(path, catalog_name, namespace, name)
    if location is None:
        raise NoSuchTableError(f"Table does not exist: {namespace}.{name}")
    io = load_file_io(properties=properties, location=location)
    metadata = FromInputFile.table_metadata(io.new_input(location))
    return Table(
        identifier=(*Catalog.identifier_to_tuple(namespace), name),
        metadata=metadata,
        metadata_location=location,
        io=load_file_io({**properties, **metadata.properties}, location),
        catalog=NoopCatalog(catalog_name, **properties),
    )
