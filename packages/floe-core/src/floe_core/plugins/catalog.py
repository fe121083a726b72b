"""CatalogPlugin: how floe reaches Iceberg tables."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from floe_core._redact import one_line, redact, secret_values
from floe_core.errors import CatalogConnectionError, TableNotFoundError
from floe_core.plugins.metadata import PluginMetadata

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table

    from floe_core.iceberg import TableView

T = TypeVar("T")


class CatalogPlugin(PluginMetadata):
    """An Iceberg catalog. Subclasses implement ``connect``; the rest is built on it."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self._catalog: Catalog | None = None

    @abstractmethod
    def connect(self) -> Catalog:
        """Return a connected pyiceberg ``Catalog``; raise ``CatalogConnectionError`` if not."""

    @property
    def catalog_name(self) -> str:
        """The name the catalog is known by in messages."""
        return str(self.config.get("name") or self.name)

    def catalog(self) -> Catalog:
        """The connected catalog, connecting on first use."""
        if self._catalog is None:
            self._catalog = self.connect()
        return self._catalog

    def reach(self) -> None:
        """Make sure the catalog answers (connecting on first use); floe errors if not."""
        self.catalog()

    def ping(self) -> None:
        """One cheap round trip to the catalog now (a monitor's readiness): list namespaces."""
        self.catalog().list_namespaces()

    def table_reader(self) -> Callable[[str], Table]:
        """What loads a table by identifier: the connected catalog's ``load_table``."""
        return self.catalog().load_table

    def view_reader(self) -> Callable[[str], TableView] | None:
        """What loads a table as floe's checks read it, when a catalog can do that for less
        than loading the table; None (the default): ``load_view`` views ``load_table``'s."""
        return None

    def load_table(self, identifier: str) -> Table:
        """Load ``namespace.table``; raise ``TableNotFoundError`` when it does not exist."""
        return self._load(identifier, self.table_reader())

    def load_view(self, identifier: str) -> TableView:
        """``load_table``, as floe's own checks read a table (``TableView``): for some
        catalogs without loading all of pyiceberg; ``full()`` is the pyiceberg table."""
        read = self.view_reader()
        if read is None or type(self).load_table is not CatalogPlugin.load_table:
            from floe_core.iceberg import TableView  # a load_table of its own is honoured

            return TableView.of(self.load_table(identifier))
        return self._load(identifier, read)

    def _load(self, identifier: str, read: Callable[[str], T]) -> T:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        try:
            return read(identifier)
        except (NoSuchTableError, NoSuchNamespaceError) as exc:
            raise TableNotFoundError(
                f"Table '{identifier}' does not exist in catalog '{self.catalog_name}'. Check the "
                "schema object's physicalName (namespace.table) or the contract's iceberg server "
                "namespace, and that the manifest points at the right catalog."
                + self.not_found_hint()
            ) from exc
        except Exception as exc:  # transport and driver errors differ per catalog backend
            raise CatalogConnectionError(
                f"Catalog '{self.catalog_name}' failed to load table '{identifier}': "
                f"{type(exc).__name__}: {self.scrub(one_line(str(exc)))}"
            ) from exc

    def scrub(self, text: str) -> str:
        """``text`` safe to show: URL passwords and every secret in ``config`` masked."""
        return redact(text, secret_values(self.config))

    def not_found_hint(self) -> str:
        """Extra advice for a missing table, specific to the catalog backend."""
        return ""

    def table_schema(self, identifier: str) -> Schema:
        """The current schema of table ``identifier``."""
        return self.load_table(identifier).schema()

    def list_namespaces(self) -> list[str]:
        """Every namespace in the catalog, dot-joined."""
        return [".".join(ns) for ns in self.catalog().list_namespaces()]

    def list_tables(self, namespace: str) -> list[str]:
        """Every table in ``namespace``, as ``namespace.table``."""
        return [".".join(ident) for ident in self.catalog().list_tables(namespace)]
