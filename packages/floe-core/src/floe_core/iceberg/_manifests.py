"""Read Iceberg manifest lists and manifests fast, and remember what immutable files said.

Only the fields floe uses are decoded (``_avro``): for a manifest list each manifest's path
and content, for a manifest each live file's content, path, format, record count, null counts
and bounds. A file the projecting reader cannot read is read with pyiceberg instead, with a
warning, so an unusual writer costs speed, never an answer.

Manifest lists and manifests are never modified after they are written, so
``ManifestSummaries`` keeps what each said, by path: a long-lived check reads only the files
added since its last run.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from pyiceberg.conversions import from_bytes
from pyiceberg.types import DateType

from floe_core.iceberg._avro import Projection, read_records
from floe_core.iceberg._file_io import LocalMetadataFileIO

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.table.snapshots import Snapshot
    from pyiceberg.types import NestedField

    from floe_core.iceberg._view import SnapshotView

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")

# Iceberg field ids (https://iceberg.apache.org/spec/#manifests).
_MANIFEST_PATH, _MANIFEST_CONTENT = 500, 517
_STATUS, _DATA_FILE = 0, 2
_CONTENT, _FILE_PATH, _FILE_FORMAT, _RECORD_COUNT = 134, 100, 101, 103
_NULL_COUNTS, _LOWER_BOUNDS, _UPPER_BOUNDS = 110, 125, 128
_DELETED = 2  # manifest entry status
DATA, POSITION_DELETES, EQUALITY_DELETES = 0, 1, 2  # data file content

_LIST: Projection = {_MANIFEST_PATH: None, _MANIFEST_CONTENT: None}
#: Every field of a manifest entry floe uses.
ENTRY: Projection = {
    _STATUS: None,
    _DATA_FILE: {
        field_id: None
        for field_id in (
            _CONTENT,
            _FILE_PATH,
            _FILE_FORMAT,
            _RECORD_COUNT,
            _NULL_COUNTS,
            _LOWER_BOUNDS,
            _UPPER_BOUNDS,
        )
    },
}


@dataclass(frozen=True, slots=True)
class Manifest:
    """One manifest of a snapshot: where it is, and whether it lists data or delete files."""

    manifest_path: str
    content: int  # 0 data, 1 deletes


@dataclass(frozen=True, slots=True)
class LiveFile:
    """A data or delete file a manifest lists as added or existing, with its column stats."""

    content: int  # DATA, POSITION_DELETES or EQUALITY_DELETES
    file_path: str
    file_format: str  # upper case: PARQUET, AVRO, ORC
    record_count: int
    null_value_counts: dict[int, int] | None  # by field id; None when the writer kept none
    lower_bounds: dict[int, bytes] | None  # serialized, by field id
    upper_bounds: dict[int, bytes] | None


_warned = False


def _read_bytes(io: FileIO, path: str) -> bytes:
    if isinstance(io, LocalMetadataFileIO):
        return io.read_bytes(path)
    with io.new_input(path).open() as stream:
        return stream.read()


def _fallback(path: str, exc: Exception) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("reading %s with pyiceberg, slower: %s", path, exc)


def read_manifest_list(io: FileIO, snapshot: Snapshot | SnapshotView) -> list[Manifest]:
    """The manifests of ``snapshot``."""
    data = _read_bytes(io, snapshot.manifest_list)  # a file that cannot be read: its error
    try:
        return [
            Manifest(r[_MANIFEST_PATH], r.get(_MANIFEST_CONTENT, 0))
            for r in read_records(data, _LIST)
        ]
    except Exception as exc:  # a writer this reader does not understand
        _fallback(snapshot.manifest_list, exc)
        return [Manifest(m.manifest_path, int(m.content)) for m in snapshot.manifests(io)]


def read_live_files(io: FileIO, manifest: Manifest) -> list[LiveFile]:
    """Data and delete files ``manifest`` lists as added or existing."""
    data = _read_bytes(io, manifest.manifest_path)
    try:
        return [
            LiveFile(
                f.get(_CONTENT, DATA),
                f[_FILE_PATH],
                f[_FILE_FORMAT].upper(),
                f[_RECORD_COUNT],
                f.get(_NULL_COUNTS),
                f.get(_LOWER_BOUNDS),
                f.get(_UPPER_BOUNDS),
            )
            for entry in read_records(data, ENTRY)
            if entry[_STATUS] != _DELETED
            for f in (entry[_DATA_FILE],)
        ]
    except Exception as exc:
        _fallback(manifest.manifest_path, exc)
        return _read_with_pyiceberg(io, manifest.manifest_path)


def _read_with_pyiceberg(io: FileIO, path: str) -> list[LiveFile]:
    """As ``ManifestFile.fetch_manifest_entry`` reads a manifest, without its inheritance."""
    from pyiceberg.avro.file import AvroFile
    from pyiceberg.manifest import (
        DEFAULT_READ_VERSION,
        MANIFEST_ENTRY_SCHEMAS,
        DataFile,
        DataFileContent,
        FileFormat,
        ManifestEntry,
        ManifestEntryStatus,
    )

    with AvroFile[ManifestEntry](
        io.new_input(path),
        MANIFEST_ENTRY_SCHEMAS[DEFAULT_READ_VERSION],
        read_types={-1: ManifestEntry, 2: DataFile},
        read_enums={0: ManifestEntryStatus, 101: FileFormat, 134: DataFileContent},
    ) as reader:
        return [
            LiveFile(
                int(f.content),
                f.file_path,
                str(f.file_format.value).upper(),
                f.record_count,
                _as_dict(f.null_value_counts),
                _as_dict(f.lower_bounds),
                _as_dict(f.upper_bounds),
            )
            for entry in reader
            if entry.status != ManifestEntryStatus.DELETED
            for f in (entry.data_file,)
        ]


def _as_dict(values: dict[int, V] | None) -> dict[int, V] | None:
    return dict(values.items()) if values is not None else None


@dataclass(frozen=True)
class ColumnSummary:
    """What one manifest says about one column: its newest bound, and any delete files."""

    newest: int | None  # raw upper bound (None: no rows, or only nulls)
    inexact: str | None  # why the bounds cannot answer exactly, if they cannot
    delete_files: int
    equality_delete_files: int


def summarize(files: list[LiveFile], field: NestedField) -> ColumnSummary:
    """The newest upper bound of ``field`` over ``files``, and the delete files among them."""
    newest: int | None = None
    inexact: str | None = None
    deletes = equality = 0
    # Iceberg's single-value serialization: dates 4 bytes, timestamps 8, little-endian.
    width = 4 if isinstance(field.field_type, DateType) else 8
    for data_file in files:
        if data_file.content != DATA:
            deletes += 1
            equality += data_file.content == EQUALITY_DELETES
            continue
        if data_file.record_count == 0 or inexact:
            continue
        bound = (data_file.upper_bounds or {}).get(field.field_id)
        if bound is None:
            nulls = (data_file.null_value_counts or {}).get(field.field_id)
            if nulls is None or nulls != data_file.record_count:
                inexact = f"data file {data_file.file_path} has no upper bound for the column"
            continue
        if len(bound) == width:
            value = int.from_bytes(bound, "little", signed=True)
        else:
            value = int(from_bytes(field.field_type, bound))  # type: ignore[arg-type]
        newest = value if newest is None else max(newest, value)
    return ColumnSummary(newest, inexact, deletes, equality)


class LRU(Generic[K, V]):
    """A thread-safe map that drops its least recently used items beyond ``capacity``."""

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

    def get_many(self, keys: list[K], compute: Callable[[int], V]) -> list[V]:
        """The value of each key, ``compute(position)`` for those not kept, in one locking."""
        with self._lock:
            values: list[V | None] = [self._items.get(key) for key in keys]
            for key, value in zip(keys, values, strict=True):
                if value is not None:
                    self._items.move_to_end(key)
        found = [value if value is not None else compute(i) for i, value in enumerate(values)]
        with self._lock:
            for key, value in zip(keys, found, strict=True):
                self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return found


class ManifestSummaries:
    """Manifest lists by path and ``ColumnSummary`` by (manifest, column), least recent dropped."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._lists: LRU[str, list[Manifest]] = LRU(max(capacity // 100, 16))
        self._columns: LRU[tuple[str, int, str], ColumnSummary] = LRU(capacity)

    def __len__(self) -> int:
        return len(self._columns)

    def manifests(self, io: FileIO, snapshot: Snapshot | SnapshotView) -> list[Manifest]:
        """The manifests of ``snapshot``, its manifest list read at most once."""
        return self._lists.get_or_compute(
            snapshot.manifest_list, lambda: read_manifest_list(io, snapshot)
        )

    def columns(
        self, io: FileIO, manifests: list[Manifest], field: NestedField
    ) -> list[ColumnSummary]:
        """What each of ``manifests`` says about ``field``, each read at most once."""
        field_id, field_type = field.field_id, str(field.field_type)
        return self._columns.get_many(
            [(manifest.manifest_path, field_id, field_type) for manifest in manifests],
            lambda position: summarize(read_live_files(io, manifests[position]), field),
        )
