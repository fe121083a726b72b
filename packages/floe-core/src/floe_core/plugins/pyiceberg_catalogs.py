"""Built-in catalog plugins: one per pyiceberg catalog type, each a thin ``load_catalog`` call.

The plugin's ``config`` is handed to ``pyiceberg.catalog.load_catalog`` as its properties, so
anything pyiceberg documents for that catalog type works; ``config.name`` names the catalog.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict

from floe_core._redact import one_line
from floe_core._version import __version__
from floe_core.errors import CatalogConfigError, CatalogConnectionError
from floe_core.plugins.catalog import CatalogPlugin
from floe_core.plugins.metadata import FLOE_API_VERSION

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from floe_core.iceberg import TableView

#: ``floe_core.iceberg.LocalMetadataFileIO``, named without importing pyiceberg.
LOCAL_METADATA_FILE_IO = "floe_core.iceberg.LocalMetadataFileIO"


def sqlite_path(uri: str) -> Path | None:
    """The file behind a SQLAlchemy SQLite URL, or None for other URLs and in-memory SQLite."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme.startswith("sqlite"):
        return None
    path = unquote(rest[1:].split("?", 1)[0]) if rest.startswith("/") else ""
    return Path(path) if path and path != ":memory:" else None


def is_configuration_problem(exc: BaseException) -> bool:
    """Whether ``load_catalog`` failed because of its configuration rather than an outage.

    A URI that does not parse or names no installed driver, a missing ``uri``, a missing
    pyiceberg extra: no retry can make them work. A refused connection, an unknown host or a
    timeout may pass, so they are outages.
    """
    if isinstance(exc, ImportError) or isinstance(exc.__cause__, ImportError):
        return True
    names = {f"{cls.__module__}.{cls.__name__}" for cls in type(exc).__mro__}
    return bool(names & _CONFIGURATION_ERRORS) or (
        type(exc) is ValueError and "missing" in str(exc).lower()
    )


#: The exception classes (by name, so that neither library is imported for it) that mean a
#: catalog URI cannot work: SQLAlchemy's unparsable URL or unknown dialect, requests' URL
#: without a scheme or with one it cannot speak, or that it cannot parse.
_CONFIGURATION_ERRORS = frozenset(
    {
        "sqlalchemy.exc.ArgumentError",
        "requests.exceptions.MissingSchema",
        "requests.exceptions.InvalidSchema",
        "requests.exceptions.InvalidURL",
        "pyiceberg.exceptions.NotInstalledError",
    }
)


class PyIcebergCatalogConfig(BaseModel):
    """``name`` plus any property pyiceberg's catalog of this type accepts."""

    model_config = ConfigDict(extra="allow")

    name: str = "default"


class PyIcebergCatalogPlugin(CatalogPlugin):
    """A catalog reached through ``pyiceberg.catalog.load_catalog``."""

    catalog_type: ClassVar[str]
    #: Whether local metadata is read without pyarrow (``LOCAL_METADATA_FILE_IO``) unless the
    #: config names a FileIO (``py-io-impl``).
    local_metadata_io: ClassVar[bool] = True
    version = __version__
    floe_api_version = FLOE_API_VERSION

    @property
    def name(self) -> str:
        return self.catalog_type

    @property
    def description(self) -> str:
        return f"pyiceberg '{self.catalog_type}' catalog"

    @classmethod
    def get_config_schema(cls) -> type[PyIcebergCatalogConfig]:
        return PyIcebergCatalogConfig

    def _properties(self) -> dict[str, str]:
        props = {k: str(v) for k, v in self.config.items() if k != "name" and v is not None}
        props["type"] = self.catalog_type
        if self.local_metadata_io:
            props.setdefault("py-io-impl", LOCAL_METADATA_FILE_IO)
        return props

    def connect(self) -> Catalog:
        from pyiceberg.catalog import load_catalog

        try:
            return load_catalog(str(self.config.get("name") or "default"), **self._properties())
        except Exception as exc:  # each backend raises its own transport errors
            raise self._connection_error(exc) from exc

    def _connection_error(self, exc: Exception) -> CatalogConnectionError:
        """``exc`` from ``load_catalog`` as floe says it: an outage, or a configuration error."""
        original = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
        problem = f"{type(original).__name__}: {self.scrub(one_line(str(original)))}"
        # pyiceberg reports any ImportError (a missing database driver too) as its own
        # extra not being installed; name the module that is really missing.
        if isinstance(exc.__cause__, ImportError):
            cause = exc.__cause__
            problem += f" (caused by {type(cause).__name__}: {self.scrub(str(cause))})"
        problem += "" if problem.endswith((".", "?", "!")) else "."
        where = f"{self.catalog_type} catalog '{self.catalog_name}'"
        if is_configuration_problem(exc):
            return CatalogConfigError(
                f"The {where} cannot work as configured: {problem} This is a configuration "
                "error, not an outage, so nothing was checked or recorded; fix "
                "plugins.catalog.config in the manifest (or the contract's iceberg server)."
            )
        return CatalogConnectionError(
            f"Could not connect to {where}: {problem} Check plugins.catalog.config in the "
            "manifest (or the contract's iceberg server) and that the catalog is reachable."
        )


class SqlCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's SQL catalog (SQLite or PostgreSQL). A missing SQLite file is an error.

    Tables of a SQLite catalog are looked up with the standard library (``sqlite3``, read
    only) and built as pyiceberg's ``SqlCatalog`` builds them, without loading SQLAlchemy
    (``floe_core.iceberg.load_sqlite_table``), and read by floe's checks without loading
    ``pyiceberg.table`` (``load_sqlite_view``); listing namespaces and tables, and every
    PostgreSQL catalog, go through pyiceberg's catalog.
    """

    catalog_type = "sql"

    def connect(self) -> Catalog:
        self._sqlite_file()
        return super().connect()

    def reach(self) -> None:
        path = self._sqlite_file()
        if path is None:
            super().reach()
            return
        from floe_core.iceberg import ping_sqlite_catalog

        try:
            ping_sqlite_catalog(path)
        except Exception as exc:  # sqlite3's errors: not a database, locked, unreadable
            raise self._connection_error(exc) from exc

    def ping(self) -> None:
        if self._sqlite_file() is None:
            super().ping()
        else:
            self.reach()  # a read-only round trip; pyiceberg's would create missing tables

    def table_reader(self) -> Callable[[str], Table]:
        path = self._sqlite_file()
        if path is None:
            return super().table_reader()
        from floe_core.iceberg import load_sqlite_table

        name, properties = str(self.config.get("name") or "default"), self._properties()
        return lambda identifier: load_sqlite_table(path, name, identifier, properties)

    def view_reader(self) -> Callable[[str], TableView] | None:
        path = self._sqlite_file()
        if path is None:
            return None
        from floe_core.iceberg import load_sqlite_view

        name, properties = str(self.config.get("name") or "default"), self._properties()
        return lambda identifier: load_sqlite_view(path, name, identifier, properties)

    def _sqlite_file(self) -> Path | None:
        """The catalog's SQLite file (None for another database); config errors if unusable."""
        uri = str(self.config.get("uri", ""))
        if not uri:
            raise CatalogConfigError(
                f"The sql catalog '{self.catalog_name}' has no 'uri'. Set "
                "plugins.catalog.config.uri, for example sqlite:///.floe/catalog.db or "
                "postgresql+psycopg://host/db."
            )
        path = sqlite_path(uri)
        if path is not None and not path.exists():
            raise CatalogConfigError(
                f"The SQLite file {path.absolute()} of the sql catalog '{self.catalog_name}' "
                "does not exist. This is a configuration error, not an outage, so nothing was "
                "checked or recorded. floe only reads catalogs: create it with your pipeline "
                "(or `make demo`), or point plugins.catalog.config.uri at an existing one."
            )
        return path

    def not_found_hint(self) -> str:
        return (
            " pyiceberg's SQL catalog keeps tables per catalog name: config.name must be the "
            f"name the tables were created under (here '{self.catalog_name}')."
        )


class RestCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's REST catalog (Polaris, Nessie, Unity, S3 Tables, Lakekeeper, ...)."""

    catalog_type = "rest"
    # The server's config defaults may name a FileIO; a property set here would override it.
    local_metadata_io = False


class GlueCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's AWS Glue catalog (needs ``pyiceberg[glue]``)."""

    catalog_type = "glue"


class HiveCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's Hive metastore catalog (needs ``pyiceberg[hive]``)."""

    catalog_type = "hive"


class DynamoDbCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's DynamoDB catalog (needs ``pyiceberg[dynamodb]``)."""

    catalog_type = "dynamodb"


class BigQueryCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's BigQuery metastore catalog (needs ``pyiceberg[bigquery]``)."""

    catalog_type = "bigquery"


class InMemoryCatalogPlugin(PyIcebergCatalogPlugin):
    """pyiceberg's in-memory catalog, for tests and experiments."""

    catalog_type = "in-memory"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        # pyiceberg's default, sqlite:///:memory:, is a separate empty database in every
        # thread, and floe runs checks in threads: share one memory database (SQLite's memdb).
        self._shared_uri = f"sqlite:///file:/floe-{uuid.uuid4().hex}?vfs=memdb&uri=true"

    def _properties(self) -> dict[str, str]:
        props = super()._properties()
        props.setdefault("uri", self._shared_uri)
        return props
