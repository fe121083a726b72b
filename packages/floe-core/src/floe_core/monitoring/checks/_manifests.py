"""Read Iceberg manifests fast, and remember what immutable manifests said.

pyiceberg's ``ManifestFile.fetch_manifest_entry`` converts and resolves the Avro schema of
every manifest it opens (about 1 ms each), although the manifests a writer produces share one
schema. ``ManifestReader`` resolves each distinct schema once. Should pyiceberg's Avro
internals change shape, it falls back to the public API.

Manifest files are never modified after they are written, so ``ManifestSummaries`` keeps
what one said about a column by path: a long-lived check reads only manifests added since.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import DataFile, ManifestFile
    from pyiceberg.types import NestedField

log = logging.getLogger(__name__)


class ManifestReader:
    """Reads the live files of manifests, with one resolved Avro reader per distinct schema."""

    def __init__(self) -> None:
        self._header: Any = None
        self._readers: dict[str, Any] = {}
        self._fast = True
        self._lock = threading.Lock()

    def live_files(self, io: FileIO, manifest: ManifestFile) -> list[DataFile]:
        """Data and delete files the manifest lists as added or existing."""
        if self._fast:
            try:
                return self._read_fast(io, manifest)
            except Exception as exc:  # pyiceberg internals moved: use the public API from now on
                log.warning("fast manifest reading unavailable, using pyiceberg's: %s", exc)
                self._fast = False
        return [entry.data_file for entry in manifest.fetch_manifest_entry(io)]

    def _read_fast(self, io: FileIO, manifest: ManifestFile) -> list[DataFile]:
        from pyiceberg.avro.decoder import new_decoder
        from pyiceberg.avro.file import _SCHEMA_KEY, SYNC_SIZE
        from pyiceberg.manifest import ManifestEntryStatus

        with io.new_input(manifest.manifest_path).open() as stream:
            decoder = new_decoder(stream.read())
        header = self._header_reader().read(decoder)
        reader = self._entry_reader(header.meta[_SCHEMA_KEY], header)
        codec = header.compression_codec()
        files: list[DataFile] = []
        while True:
            try:
                count = decoder.read_int()
            except EOFError:
                return files
            block = decoder.read_bytes()
            block_decoder = new_decoder(codec.decompress(block) if codec else block)
            for _ in range(count):
                entry = reader.read(block_decoder)
                if entry.status != ManifestEntryStatus.DELETED:
                    files.append(entry.data_file)
            decoder.read(SYNC_SIZE)

    def _header_reader(self) -> Any:
        with self._lock:
            if self._header is None:
                from pyiceberg.avro.file import META_SCHEMA, AvroFileHeader
                from pyiceberg.avro.resolver import construct_reader

                self._header = construct_reader(META_SCHEMA, {-1: AvroFileHeader})
            return self._header

    def _entry_reader(self, schema_json: str, header: Any) -> Any:
        with self._lock:
            reader = self._readers.get(schema_json)
            if reader is None:
                from pyiceberg.avro.resolver import resolve_reader
                from pyiceberg.manifest import (
                    DEFAULT_READ_VERSION,
                    MANIFEST_ENTRY_SCHEMAS,
                    DataFile,
                    DataFileContent,
                    FileFormat,
                    ManifestEntry,
                    ManifestEntryStatus,
                )

                reader = resolve_reader(
                    header.get_schema(),
                    MANIFEST_ENTRY_SCHEMAS[DEFAULT_READ_VERSION],
                    {-1: ManifestEntry, 2: DataFile},
                    {0: ManifestEntryStatus, 101: FileFormat, 134: DataFileContent},
                )
                self._readers[schema_json] = reader
            return reader


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


class ManifestSummaries:
    """``ColumnSummary`` per (manifest path, field id, type), least recently used dropped."""

    def __init__(self, reader: ManifestReader | None = None, capacity: int = 100_000) -> None:
        self.reader = reader or ManifestReader()
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, int, str], ColumnSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, io: FileIO, manifest: ManifestFile, field: NestedField) -> ColumnSummary:
        """What ``manifest`` says about ``field``, read at most once."""
        key = (manifest.manifest_path, field.field_id, str(field.field_type))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        summary = summarize(self.reader.live_files(io, manifest), field)
        with self._lock:
            self._cache[key] = summary
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return summary
