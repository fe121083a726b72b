"""Generated ``orders`` tables, cached in ``benchmarks/.data/`` by row and file count.

Each table is written with one ``table.append`` per data file (fast appends, the default), so
a table of N files has N snapshots and N manifests: the shape a streaming ingest leaves
behind. ``updated_at`` is spread at random over the 30 days before generation, so its
maximum sits in an arbitrary file, not always the last one written.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from floe_core.testing.iceberg import catalog_config, create_table, local_catalog

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema

DATA_DIR = Path(__file__).resolve().parent / ".data"
IDENTIFIER = "bench.orders"
ONE_MANIFEST = "bench.orders_one_manifest"
STATUSES = ("pending", "paid", "shipped", "cancelled")
NULL_EMAIL_SHARE = 0.05
SPAN = timedelta(days=30)
_MARKER = "table.json"
_LAYOUT_VERSION = 1  # bump when the generated data changes shape, to invalidate caches


@dataclass(frozen=True)
class CachedTable:
    """A generated table on disk and what is known about it without reading it."""

    directory: Path
    identifier: str
    rows: int
    files: int
    newest_updated_at: str  # ISO 8601, the exact maximum of updated_at
    generated_at: str
    generation_seconds: float
    layout_version: int = _LAYOUT_VERSION

    def catalog(self) -> SqlCatalog:
        """The SQLite-backed catalog holding the table."""
        return local_catalog(self.directory)

    def floe_catalog(self) -> Catalog:
        """The same catalog as floe connects to it (local metadata read without pyarrow)."""
        from floe_core.plugins.pyiceberg_catalogs import SqlCatalogPlugin

        return SqlCatalogPlugin(self.catalog_config()).connect()

    def catalog_config(self) -> dict[str, str]:
        """``plugins.catalog.config`` of a manifest reaching this catalog."""
        return catalog_config(self.directory)


def orders_schema() -> Schema:
    """``orders``: id (the identifier field), email, amount, status, updated_at."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        DoubleType,
        LongType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    return Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "email", StringType(), required=False),
        NestedField(3, "amount", DoubleType(), required=False),
        NestedField(4, "status", StringType(), required=False),
        NestedField(5, "updated_at", TimestamptzType(), required=True),
        identifier_field_ids=[1],
    )


def ensure_orders(rows: int, files: int, *, log: bool = True) -> CachedTable:
    """The cached ``orders`` table of ``rows`` rows in ``files`` files, generated if absent."""
    if rows < files or files < 1:
        raise ValueError(f"need at least one row per file: rows={rows}, files={files}")
    directory = DATA_DIR / f"orders-{rows}r-{files}f"
    cached = _read_marker(directory)
    if cached is not None:
        return cached
    if directory.exists():
        shutil.rmtree(directory)  # a generation that did not finish
    if log:
        print(f"generating {IDENTIFIER}: {rows:,} rows in {files} appends -> {directory}")
    started = time.monotonic()
    end = datetime.now(UTC).replace(microsecond=0)
    catalog = local_catalog(directory)
    table = create_table(catalog, IDENTIFIER, orders_schema())
    newest_us = 0
    per_file, extra = divmod(rows, files)
    first_id = 0
    for index in range(files):
        count = per_file + (1 if index < extra else 0)
        batch = _batch(index, first_id, count, end)
        newest_us = max(newest_us, _max_micros(batch))
        table.append(batch)
        first_id += count
        if log and (index + 1) % max(1, files // 10) == 0:
            print(f"  {index + 1}/{files} files, {time.monotonic() - started:.0f} s")
    newest = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=newest_us)
    cached = CachedTable(
        directory=directory,
        identifier=IDENTIFIER,
        rows=rows,
        files=files,
        newest_updated_at=newest.isoformat(),
        generated_at=end.isoformat(),
        generation_seconds=round(time.monotonic() - started, 1),
    )
    marker = {**asdict(cached), "directory": str(directory)}
    (directory / _MARKER).write_text(json.dumps(marker, indent=2))
    return cached


def ensure_one_manifest(cached: CachedTable) -> str:
    """A second table over the same data files, all listed in one manifest.

    The shape a table has after Iceberg's manifest merging (on by default in Java writers)
    or ``rewrite_manifests``. Its data files belong to ``cached``: never purge this table.
    """
    catalog = cached.catalog()
    if catalog.table_exists(ONE_MANIFEST):
        summary = getattr(catalog.load_table(ONE_MANIFEST).current_snapshot(), "summary", None)
        if summary is not None and summary.get("total-data-files") == str(cached.files):
            return ONE_MANIFEST
    source = catalog.load_table(cached.identifier)
    snapshot = source.current_snapshot()
    assert snapshot is not None
    files = [
        entry.data_file
        for manifest in snapshot.manifests(source.io)
        for entry in manifest.fetch_manifest_entry(source.io)
    ]
    target = create_table(catalog, ONE_MANIFEST, source.schema())
    with target.transaction() as tx, tx.update_snapshot().fast_append() as append:
        for data_file in files:
            append.append_data_file(data_file)
    return ONE_MANIFEST


def _read_marker(directory: Path) -> CachedTable | None:
    path = directory / _MARKER
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("layout_version") != _LAYOUT_VERSION:
        return None
    return CachedTable(**{**data, "directory": Path(data["directory"])})


def _batch(index: int, first_id: int, count: int, end: datetime) -> pa.Table:
    import pyarrow as pa

    rng = random.Random(index)
    end_us = int(end.timestamp() * 1_000_000)
    start_us = end_us - int(SPAN.total_seconds() * 1_000_000)
    ids = range(first_id, first_id + count)
    emails = [
        None if rng.random() < NULL_EMAIL_SHARE else f"user{i % 500_000}@example.com" for i in ids
    ]
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("email", pa.string()),
            pa.field("amount", pa.float64()),
            pa.field("status", pa.string()),
            pa.field("updated_at", pa.timestamp("us", tz="UTC"), nullable=False),
        ]
    )
    return pa.table(
        [
            pa.array(ids, pa.int64()),
            pa.array(emails, pa.string()),
            pa.array([round(rng.uniform(1.0, 500.0), 2) for _ in ids], pa.float64()),
            pa.array(rng.choices(STATUSES, k=count), pa.string()),
            pa.array([rng.randrange(start_us, end_us + 1) for _ in ids], pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
        ],
        schema=schema,
    )


def _max_micros(batch: pa.Table) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    value = pc.max(batch.column("updated_at").cast(pa.int64())).as_py()
    assert isinstance(value, int)
    return value
