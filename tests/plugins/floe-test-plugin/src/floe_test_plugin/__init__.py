"""A third-party catalog plugin for floe's tests: pyiceberg's in-memory catalog."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from floe_core.plugins.catalog import CatalogPlugin

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__version__ = "0.1.0"


class MemoryCatalogPlugin(CatalogPlugin):
    """Each instance connects to its own in-memory catalog; ``config`` is passed to pyiceberg.

    ``config.crash_with`` makes ``load_table`` fail with that message, as a buggy plugin would.
    """

    @property
    def name(self) -> str:
        return "test-memory"

    @property
    def version(self) -> str:
        return __version__

    @property
    def floe_api_version(self) -> str:
        return "1.0"

    @property
    def description(self) -> str:
        return "pyiceberg's in-memory catalog, installed from a separate distribution"

    def connect(self) -> Catalog:
        from pyiceberg.catalog.memory import InMemoryCatalog

        properties = {k: str(v) for k, v in self.config.items() if k not in ("name", "crash_with")}
        # One SQLite memory database shared by every thread (floe runs checks in threads).
        shared = f"sqlite:///file:/{uuid.uuid4().hex}?vfs=memdb&uri=true"
        properties.setdefault("uri", shared)
        return InMemoryCatalog(self.catalog_name, **properties)

    def load_table(self, identifier: str) -> Table:
        if self.config.get("crash_with"):
            raise RuntimeError(str(self.config["crash_with"]))
        return super().load_table(identifier)
