"""The FileIO floe's catalogs hand pyiceberg: local metadata read without loading pyarrow.

pyiceberg picks ``PyArrowFileIO`` for local tables, and importing it loads pyarrow, about a
tenth of a second of a ``floe sla check`` that never touches Arrow: the checks read only the
table's metadata JSON and Avro manifests, and DuckDB reads the Parquet files itself. Here
those local metadata files are read with the standard library; every other file, and every
write and delete, goes to the FileIO pyiceberg would have chosen, created on first need.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from pyiceberg.io import PY_IO_IMPL, FileIO, InputFile, InputStream, OutputFile, load_file_io
from pyiceberg.typedef import EMPTY_DICT, Properties

from floe_core._speedups import accelerator

# Table metadata (plain or compressed) and Avro manifest lists and manifests.
_METADATA_SUFFIXES = (".metadata.json", ".metadata.json.gz", ".gz.metadata.json", ".avro")
_CHUNK = 1 << 16  # below the allocator's mmap threshold, so each read is cheap


class LocalMetadataFileIO(FileIO):
    """Reads local metadata files itself; delegates everything else to pyiceberg's choice."""

    def __init__(self, properties: Properties = EMPTY_DICT) -> None:
        super().__init__(properties)
        self._delegates: dict[str, FileIO] = {}

    def new_input(self, location: str) -> InputFile:
        """A local metadata file read with ``open``; any other file as the delegate reads it."""
        path = self._local_path(location) if location.endswith(_METADATA_SUFFIXES) else None
        if path is None:
            return self._delegate(location).new_input(location)
        return LocalInputFile(location, path)

    def read_bytes(self, location: str) -> bytes:
        """The whole file at ``location``: a local metadata file read with system calls."""
        path = self._local_path(location) if location.endswith(_METADATA_SUFFIXES) else None
        if path is None:
            with self._delegate(location).new_input(location).open() as stream:
                return stream.read()
        return _read_all(path)

    def new_output(self, location: str) -> OutputFile:
        """Written by the delegate."""
        return self._delegate(location).new_output(location)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        """Deleted by the delegate."""
        text = location if isinstance(location, str) else location.location
        self._delegate(text).delete(location)

    def _local_path(self, location: str) -> str | None:
        """The path pyiceberg's ``PyArrowFileIO`` would open for a local ``location``."""
        if (
            location.startswith("file:///")
            and "?" not in location
            and "#" not in location
            and ";" not in location
        ):
            return location[7:]  # what urlparse gives for such a location, without its cost
        uri = urlparse(location)
        if os.path.splitdrive(location)[0] or not uri.scheme:
            if self.properties.get("DEFAULT_SCHEME", "file") != "file":
                return None
            return os.path.abspath(location)
        return f"{uri.netloc}{uri.path}" if uri.scheme == "file" else None

    def _delegate(self, location: str) -> FileIO:
        """The FileIO pyiceberg picks for ``location``'s scheme without ``py-io-impl``."""
        scheme = urlparse(location).scheme
        delegate = self._delegates.get(scheme)
        if delegate is None:
            properties = {k: v for k, v in self.properties.items() if k != PY_IO_IMPL}
            delegate = self._delegates[scheme] = load_file_io(properties, location)
        return delegate


class LocalInputFile(InputFile):
    """A local file, opened with the standard library."""

    def __init__(self, location: str, path: str) -> None:
        super().__init__(location)
        self._path = path

    def __len__(self) -> int:
        return os.path.getsize(self._path)

    def exists(self) -> bool:
        return os.path.exists(self._path)

    def open(self, seekable: bool = True) -> InputStream:
        return open(self._path, "rb")


def _read_all(path: str) -> bytes:
    """A file read with plain system calls: a manifest of a few KB in one ``read``; in C,
    without holding the GIL, when floe-speedups is installed.

    A read from a regular file returns less than asked only at its end, so a short read
    ends the loop without asking again.
    """
    accelerated = accelerator()
    if accelerated is not None and hasattr(accelerated, "read_file"):
        data: bytes = accelerated.read_file(path)
        return data
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunk = os.read(fd, _CHUNK)
        if len(chunk) < _CHUNK:
            return chunk
        chunks = [chunk]
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
