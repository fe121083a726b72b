"""``TableView``: what floe's own checks read of an Iceberg table, without ``pyiceberg.table``.

Importing ``pyiceberg.table`` (any part of it: its package loads the expression parser built
with pyparsing, the configuration read with strictyaml, the Avro writers and the pydantic
table-metadata models) is about 0.15 s of CPU, nearly half of a one-off ``floe sla check``.
The checks read little of a table: its name, current schema, snapshots and their summaries,
and the FileIO to read manifests with (which floe decodes itself). A view holds just that,
parsed from the metadata JSON, with pyiceberg's own ``Schema`` (``pyiceberg.schema`` is
cheap); the pyiceberg ``Table`` is built only when something needs it (``full``): a
third-party quality plugin, a scan through pyiceberg (tables with delete files), a manifest
floe's decoder cannot read. Format-version 1 metadata is left to pyiceberg altogether.

A view of a table pyiceberg has loaded already (``TableView.of``) reads the same things off
that table, so floe's checks have one kind of table to read whatever the catalog.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import ManifestFile
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

_GZIP_SUFFIXES = (".gz.metadata.json", ".metadata.json.gz")


class Summary(dict[str, str]):
    """A snapshot's summary: its properties, and ``operation`` (``append``, ``replace``...)."""

    def __init__(self, operation: str, properties: dict[str, str]) -> None:
        super().__init__(properties)
        self.operation = operation


class SnapshotView:
    """One snapshot: its ids, commit time, manifest list and summary."""

    __slots__ = (
        "_full",
        "manifest_list",
        "parent_snapshot_id",
        "schema_id",
        "snapshot_id",
        "summary",
        "timestamp_ms",
    )

    def __init__(
        self,
        snapshot_id: int,
        parent_snapshot_id: int | None,
        timestamp_ms: int,
        manifest_list: str,
        schema_id: int | None,
        summary: Summary | None,
        full: Callable[[], Snapshot],
    ) -> None:
        self.snapshot_id = snapshot_id
        self.parent_snapshot_id = parent_snapshot_id
        self.timestamp_ms = timestamp_ms
        self.manifest_list = manifest_list
        self.schema_id = schema_id
        self.summary = summary
        self._full = full

    def manifests(self, io: FileIO) -> list[ManifestFile]:
        """pyiceberg's reading of the manifest list (for what floe's decoder cannot read)."""
        return self._full().manifests(io)


class MetadataView:
    """The snapshots and schemas of a table's current metadata."""

    def __init__(
        self,
        snapshots: list[SnapshotView],
        schemas: list[Schema],
        current_snapshot_id: int | None,
        current_schema_id: int,
        properties: dict[str, str],
    ) -> None:
        self.snapshots = snapshots
        self.schemas = schemas
        self.current_snapshot_id = current_snapshot_id
        self.current_schema_id = current_schema_id
        self.properties = properties
        self._by_id = {s.snapshot_id: s for s in snapshots}

    def snapshot_by_id(self, snapshot_id: int) -> SnapshotView | None:
        return self._by_id.get(snapshot_id)

    def ancestors(self, snapshot: SnapshotView) -> Iterator[SnapshotView]:
        """``snapshot``, its parent, and so on, while the metadata still holds them."""
        current: SnapshotView | None = snapshot
        while current is not None:
            yield current
            parent = current.parent_snapshot_id
            current = self.snapshot_by_id(parent) if parent is not None else None


class TableView:
    """A table as floe's checks read it; ``full()`` is the pyiceberg ``Table``."""

    def __init__(
        self,
        identifier: tuple[str, ...],
        metadata_location: str,
        metadata: MetadataView,
        io: FileIO,
        full: Callable[[], Table],
    ) -> None:
        self.identifier = identifier
        self.metadata_location = metadata_location
        self.metadata = metadata
        self.io = io
        self._full = full
        self._table: Table | None = None

    def name(self) -> tuple[str, ...]:
        return self.identifier

    def schema(self) -> Schema:
        """The current schema."""
        for schema in self.metadata.schemas:
            if schema.schema_id == self.metadata.current_schema_id:
                return schema
        raise ValueError(f"schema {self.metadata.current_schema_id} is not in the metadata")

    def current_snapshot(self) -> SnapshotView | None:
        current = self.metadata.current_snapshot_id
        return self.metadata.snapshot_by_id(current) if current is not None else None

    def full(self) -> Table:
        """The pyiceberg ``Table`` (built on first use)."""
        if self._table is None:
            self._table = self._full()
        return self._table

    def scan(self, **options: Any) -> Any:
        """pyiceberg's ``Table.scan``."""
        return self.full().scan(**options)

    @classmethod
    def of(cls, table: Table) -> TableView:
        """The view of a table pyiceberg has loaded."""
        metadata = table.metadata

        def view(snapshot: Snapshot) -> SnapshotView:
            summary = snapshot.summary
            return SnapshotView(
                snapshot.snapshot_id,
                snapshot.parent_snapshot_id,
                snapshot.timestamp_ms,
                snapshot.manifest_list,
                snapshot.schema_id,
                Summary(summary.operation.value, dict(summary.additional_properties))
                if summary is not None
                else None,
                lambda: snapshot,
            )

        found = MetadataView(
            [view(s) for s in metadata.snapshots],
            list(metadata.schemas),
            metadata.current_snapshot_id,
            metadata.current_schema_id,
            dict(metadata.properties),
        )
        return cls(table.name(), table.metadata_location, found, table.io, lambda: table)


def as_view(table: Table | TableView) -> TableView:
    """``table`` as a view (a view as it is)."""
    return table if isinstance(table, TableView) else TableView.of(table)


def read_metadata(io: FileIO, location: str) -> dict[str, Any]:
    """The table metadata JSON at ``location``, read through ``io`` (gzip or not)."""
    with io.new_input(location).open() as stream:
        data = stream.read()
    if location.endswith(_GZIP_SUFFIXES):
        data = gzip.decompress(data)
    document: dict[str, Any] = json.loads(data)
    return document


def parse_metadata(
    document: dict[str, Any], full_snapshot: Callable[[int], Snapshot]
) -> MetadataView | None:
    """The view of a metadata document; None when pyiceberg should read it (format v1)."""
    from pyiceberg.schema import Schema

    if document.get("format-version") not in (2, 3):
        return None
    snapshots = []
    for raw in document.get("snapshots") or []:
        manifest_list = raw.get("manifest-list")
        if not manifest_list:
            return None
        properties = {k: str(v) for k, v in (raw.get("summary") or {}).items()}
        operation = properties.pop("operation", None)
        snapshot_id = int(raw["snapshot-id"])
        snapshots.append(
            SnapshotView(
                snapshot_id,
                _optional_int(raw.get("parent-snapshot-id")),
                int(raw["timestamp-ms"]),
                manifest_list,
                _optional_int(raw.get("schema-id")),
                Summary(operation, properties) if operation is not None else None,
                partial(full_snapshot, snapshot_id),
            )
        )
    current = _optional_int(document.get("current-snapshot-id"))
    return MetadataView(
        snapshots,
        [Schema.model_validate(s) for s in document["schemas"]],
        current if current != -1 else None,
        int(document["current-schema-id"]),
        {k: str(v) for k, v in (document.get("properties") or {}).items()},
    )


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None
