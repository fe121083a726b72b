"""Read Iceberg manifest lists and manifests fast, and remember what immutable files said.

pyiceberg's ``AvroFile`` converts and resolves the Avro schema of every file it opens (about
1 ms each), although the manifests a writer produces share one schema. Here each distinct
schema is resolved once per process. Should pyiceberg's Avro internals change shape, reading
falls back to its public API.

Manifest lists and manifests are never modified after they are written, so
``ManifestSummaries`` keeps what each said, by path: a long-lived check reads only the files
added since its last run.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import DataFile, ManifestFile
    from pyiceberg.table.snapshots import Snapshot
    from pyiceberg.types import NestedField

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")

_LIST, _MANIFEST = "manifest-list", "manifest"
_readers: dict[tuple[str, str], Any] = {}
_readers_lock = threading.Lock()
_fast = True


def _resolved_reader(kind: str, header: Any) -> Any:
    """The pyiceberg reader of ``kind`` files with this header's schema, resolved once."""
    from pyiceberg.avro.file import _SCHEMA_KEY
    from pyiceberg.avro.resolver import resolve_reader
    from pyiceberg.manifest import (
        DEFAULT_READ_VERSION,
        MANIFEST_ENTRY_SCHEMAS,
        MANIFEST_LIST_FILE_SCHEMAS,
        DataFile,
        DataFileContent,
        FileFormat,
        ManifestContent,
        ManifestEntry,
        ManifestEntryStatus,
        ManifestFile,
        PartitionFieldSummary,
    )

    key = (kind, header.meta[_SCHEMA_KEY])
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            if kind == _LIST:  # as pyiceberg.manifest.read_manifest_list reads them
                reader = resolve_reader(
                    header.get_schema(),
                    MANIFEST_LIST_FILE_SCHEMAS[DEFAULT_READ_VERSION],
                    {-1: ManifestFile, 508: PartitionFieldSummary},
                    {517: ManifestContent},
                )
            else:  # as ManifestFile.fetch_manifest_entry reads them
                reader = resolve_reader(
                    header.get_schema(),
                    MANIFEST_ENTRY_SCHEMAS[DEFAULT_READ_VERSION],
                    {-1: ManifestEntry, 2: DataFile},
                    {0: ManifestEntryStatus, 101: FileFormat, 134: DataFileContent},
                )
            _readers[key] = reader
        return reader


def _header_reader() -> Any:
    with _readers_lock:
        reader = _readers.get(("header", ""))
        if reader is None:
            from pyiceberg.avro.file import META_SCHEMA, AvroFileHeader
            from pyiceberg.avro.resolver import construct_reader

            reader = _readers[("header", "")] = construct_reader(META_SCHEMA, {-1: AvroFileHeader})
        return reader


def _read_avro(io: FileIO, path: str, kind: str) -> Iterator[Any]:
    """Every record of the Avro file at ``path``, read as pyiceberg's ``AvroFile`` would."""
    from pyiceberg.avro.decoder import new_decoder
    from pyiceberg.avro.file import SYNC_SIZE

    with io.new_input(path).open() as stream:
        decoder = new_decoder(stream.read())
    header = _header_reader().read(decoder)
    reader = _resolved_reader(kind, header)
    codec = header.compression_codec()
    while True:
        try:
            count = decoder.read_int()
        except EOFError:
            return
        block = decoder.read_bytes()
        block_decoder = new_decoder(codec.decompress(block) if codec else block)
        for _ in range(count):
            yield reader.read(block_decoder)
        decoder.read(SYNC_SIZE)


def _with_fallback(fast: Callable[[], V], public: Callable[[], V]) -> V:
    global _fast
    if _fast:
        try:
            return fast()
        except Exception as exc:  # pyiceberg internals moved: use the public API from now on
            log.warning("fast manifest reading unavailable, using pyiceberg's: %s", exc)
            _fast = False
    return public()


def read_manifest_list(io: FileIO, snapshot: Snapshot) -> list[ManifestFile]:
    """The manifests of ``snapshot``."""
    return _with_fallback(
        lambda: list(_read_avro(io, snapshot.manifest_list, _LIST)),
        lambda: snapshot.manifests(io),
    )


def read_live_files(io: FileIO, manifest: ManifestFile) -> list[DataFile]:
    """Data and delete files ``manifest`` lists as added or existing."""
    from pyiceberg.manifest import ManifestEntryStatus

    return _with_fallback(
        lambda: [
            entry.data_file
            for entry in _read_avro(io, manifest.manifest_path, _MANIFEST)
            if entry.status != ManifestEntryStatus.DELETED
        ],
        lambda: [entry.data_file for entry in manifest.fetch_manifest_entry(io)],
    )


@dataclass(frozen=True)
class ColumnSummary:
    """What one manifest says about one column: its newest bound, and any delete files."""

    newest: int | None  # raw upper bound (None: no rows, or only nulls)
    inexact: str | None  # why the bounds cannot answer exactly, if they cannot
    delete_files: int
    equality_delete_files: int


def summarize(files: list[DataFile], field: NestedField) -> ColumnSummary:
    """The newest upper bound of ``field`` over ``files``, and the delete files among them."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.manifest import DataFileContent

    newest: int | None = None
    inexact: str | None = None
    deletes = equality = 0
    for data_file in files:
        if data_file.content != DataFileContent.DATA:
            deletes += 1
            equality += data_file.content == DataFileContent.EQUALITY_DELETES
            continue
        if data_file.record_count == 0 or inexact:
            continue
        bound = (data_file.upper_bounds or {}).get(field.field_id)
        if bound is None:
            nulls = (data_file.null_value_counts or {}).get(field.field_id)
            if nulls is None or nulls != data_file.record_count:
                inexact = f"data file {data_file.file_path} has no upper bound for the column"
            continue
        value = int(from_bytes(field.field_type, bound))  # type: ignore[arg-type]
        newest = value if newest is None else max(newest, value)
    return ColumnSummary(newest, inexact, deletes, equality)


class _LRU(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value


class ManifestSummaries:
    """Manifest lists by path and ``ColumnSummary`` by (manifest, column), least recent dropped."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._lists: _LRU[str, list[ManifestFile]] = _LRU(max(capacity // 100, 16))
        self._columns: _LRU[tuple[str, int, str], ColumnSummary] = _LRU(capacity)

    def __len__(self) -> int:
        return len(self._columns)

    def manifests(self, io: FileIO, snapshot: Snapshot) -> list[ManifestFile]:
        """The manifests of ``snapshot``, its manifest list read at most once."""
        return self._lists.get_or_compute(
            snapshot.manifest_list, lambda: read_manifest_list(io, snapshot)
        )

    def column(self, io: FileIO, manifest: ManifestFile, field: NestedField) -> ColumnSummary:
        """What ``manifest`` says about ``field``, read at most once."""
        key = (manifest.manifest_path, field.field_id, str(field.field_type))
        return self._columns.get_or_compute(
            key, lambda: summarize(read_live_files(io, manifest), field)
        )
