"""Freshness by column: manifest upper bounds (metadata path) against a scan of the column.

All paths run in one process on one table, loaded as floe loads it, each after one untimed
warm-up call (so imports and first-use costs are not charged to either), and must return the
same value, which must also be the maximum recorded when the table was generated. They are
timed in turns (``interleaved``): each round runs the scan once and each metadata path five
times, so a slow minute of this shared machine weighs on all of them alike.

The metadata path is timed four ways:
- cold: nothing cached, as in a one-off ``floe sla check``: a fresh ``ManifestSummaries``, and
  the process-wide caches of compiled Avro readers and known headers emptied before every call;
  like everything in the ``floe`` process (see ``floe_core.cli.main``), without the cyclic
  garbage collector. The scan it is compared with runs the same way. Manifests are decoded
  in C when floe-speedups is installed (as ``make`` installs it);
- the same with generated Python decoding, as without floe-speedups (context);
- cold with the collector on, as when a Python service builds a new ``ContractMonitor`` for
  one check (context: after its first check a service's monitor is warm);
- warm: one ``ManifestSummaries`` shared by the calls, as the long-lived ``FreshnessCheck`` of
  a ``ContractMonitor`` holds: it reads the manifest list, and only manifests it has not seen.
The scan path lists the manifests the same cold way, then lets pyiceberg plan and read.
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from _report import Row, Section, Timings, interleaved, ms, timed
from _tables import CachedTable, ensure_one_manifest, ensure_orders

from floe_core import _speedups
from floe_core.iceberg import _avro
from floe_core.iceberg._manifests import ManifestSummaries
from floe_core.iceberg._newest import Newest, newest_column_value

if TYPE_CHECKING:
    from pyiceberg.table import Table

COLUMN = "updated_at"
TARGET_RATIO = 100.0
_LIBRARY_PATH = re.compile(r"/\S*/(?:site-packages|lib/python3\.\d+)/")


@dataclass(frozen=True)
class FreshnessConfig:
    """Table size and how often each path is repeated."""

    rows: int
    files: int
    repeat: int  # scan repetitions; load_table and the metadata path repeat more
    profile: bool  # print a cProfile of the cold metadata path


def run_freshness(config: FreshnessConfig) -> Section:
    """Time load_table and the three paths on two layouts of the same data files."""
    cached = ensure_orders(config.rows, config.files)
    catalog = cached.floe_catalog()
    meta_repeat = max(5 * config.repeat, 10)
    expected = datetime.fromisoformat(cached.newest_updated_at)

    load, tables = timed(lambda: catalog.load_table(cached.identifier), meta_repeat)
    table = tables[-1]
    appended = _compare(table, cached, expected, config.repeat, meta_repeat)
    merged_table = catalog.load_table(ensure_one_manifest(cached))
    merged = _compare(merged_table, cached, expected, config.repeat, meta_repeat)

    shape = f"{cached.rows:,} rows, {appended.layout.data_files} files"
    section = Section("freshness")
    section.rows = [
        Row(
            "freshness: load_table",
            f"{shape}, {appended.layout.snapshots} snapshots",
            load.brief(),
            "",
            "context",
        ),
        *appended.rows(f"{shape}, {appended.layout.manifests} manifests (1 per append)"),
        *merged.rows(f"same files in {merged.layout.manifests} manifest (merged)"),
    ]
    decoder = "C (floe-speedups)" if _speedups.accelerator() is not None else "generated Python"
    section.notes.append(f"manifest decoder of the metadata path: {decoder}")
    section.figures = {
        "manifest_decoder": decoder,
        "table": {
            "identifier": cached.identifier,
            "directory": str(cached.directory),
            "rows": appended.layout.rows,
            "data_files": appended.layout.data_files,
            "delete_files": appended.layout.delete_files,
            "manifests": appended.layout.manifests,
            "snapshots": appended.layout.snapshots,
            "data_bytes": appended.layout.data_bytes,
            "generated_at": cached.generated_at,
            "generation_seconds": cached.generation_seconds,
        },
        "column": COLUMN,
        "newest_value": expected.isoformat(),
        "load_table": load.as_dict(),
        "one_manifest_per_append": appended.as_dict(),
        "one_manifest_for_all_files": merged.as_dict(),
        "target_ratio": TARGET_RATIO,
    }
    if config.profile:
        top = _profile(table, meta_repeat)
        section.figures["cold_metadata_profile_top"] = top
        section.notes.append("cold metadata path, cProfile top functions by own time:\n" + top)
    return section


#: The metadata paths: name, how it runs, whether the 100x target applies to it.
METADATA_PATHS = (
    ("cold", "nothing cached, GC off (a one-off floe sla check)", True),
    ("cold_python", "the same without floe-speedups (generated Python decodes)", False),
    ("cold_gc_on", "nothing cached, GC on (a new ContractMonitor in a service)", False),
    ("warm", "a monitor's next check (manifests cached), GC on", True),
)


@dataclass(frozen=True)
class Comparison:
    """The metadata paths, cold and warm, against the scan path on one table."""

    identifier: str
    layout: Layout
    metadata: dict[str, Timings]  # by the names in METADATA_PATHS
    scan: Timings
    value: datetime

    def ratio(self, metadata: Timings) -> float:
        return self.scan.median / metadata.median

    def rows(self, shape: str) -> list[Row]:
        rows = [
            Row("freshness: scan path", f"{shape}, column {COLUMN}", self.scan.brief()),
        ]
        for name, how, target in METADATA_PATHS:
            if name not in self.metadata:
                continue
            timings = self.metadata[name]
            ratio = self.ratio(timings)
            rows.append(
                Row(
                    f"freshness: metadata path, {name.split('_')[0]}",
                    f"{shape}; {how}",
                    timings.brief(),
                    f"{ratio:.1f}x scan",
                    f">= {TARGET_RATIO:.0f}x" if target else "context",
                    ratio >= TARGET_RATIO if target else None,
                )
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "identifier": self.identifier,
            "manifests": self.layout.manifests,
            "value": self.value.isoformat(),
            "scan_path": self.scan.as_dict(),
        }
        for name, timings in self.metadata.items():
            figures[f"metadata_path_{name}"] = timings.as_dict()
            figures[f"ratio_scan_over_{name}_median"] = self.ratio(timings)
        return figures


def _compare(
    table: Table, cached: CachedTable, expected: datetime, repeat: int, meta_repeat: int
) -> Comparison:
    """Warm each path up once, time it, and check every answer."""
    layout = _layout(table, cached)
    shared = ManifestSummaries()

    def cold() -> Newest:
        _avro.clear_caches()
        return newest_column_value(table, COLUMN, summaries=ManifestSummaries())

    def cold_python() -> Newest:
        saved = _speedups._accelerated
        _speedups._accelerated = None
        try:
            return cold()
        finally:
            _speedups._accelerated = saved

    def warm() -> Newest:
        return newest_column_value(table, COLUMN, summaries=shared)

    def scan() -> Newest:
        _avro.clear_caches()
        return newest_column_value(table, COLUMN, allow_metadata=False)

    paths = {
        "cold": (_without_gc(cold), "metadata"),
        "cold_python": (_without_gc(cold_python), "metadata"),
        "cold_gc_on": (cold, "metadata"),
        "warm": (warm, "metadata"),
        "scan": (_without_gc(scan), "scan"),
    }
    if _speedups.accelerator() is None:
        del paths["cold_python"]  # "cold" is already generated Python
    for fn, method in paths.values():
        _check_answers([fn()], method, expected)  # the warm-up call
    per_round = max(meta_repeat // repeat, 1)
    results = interleaved(
        {name: (fn, 1 if name == "scan" else per_round) for name, (fn, _) in paths.items()},
        repeat,
    )
    timings: dict[str, Timings] = {}
    for name, (path_timings, values) in results.items():
        _check_answers(values, paths[name][1], expected)
        timings[name] = path_timings
    scan_timings = timings.pop("scan")
    return Comparison(".".join(table.name()), layout, timings, scan_timings, expected)


def _without_gc(fn: Callable[[], Newest]) -> Callable[[], Newest]:
    """``fn`` run as the ``floe`` process runs everything: without the cyclic GC."""

    def run() -> Newest:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


@dataclass(frozen=True)
class Layout:
    """What the table holds, counted from its metadata."""

    rows: int
    data_files: int
    delete_files: int
    manifests: int
    snapshots: int
    data_bytes: int


def _layout(table: Table, cached: CachedTable) -> Layout:
    """Count files from ``inspect.files()`` and check them against the generated table."""
    files = table.inspect.files()
    content = files.column("content").to_pylist()
    records = files.column("record_count").to_pylist()
    sizes = files.column("file_size_in_bytes").to_pylist()
    snapshot = table.current_snapshot()
    assert snapshot is not None, "the generated table has no snapshot"
    layout = Layout(
        rows=sum(r for c, r in zip(content, records, strict=True) if c == 0),
        data_files=sum(1 for c in content if c == 0),
        delete_files=sum(1 for c in content if c != 0),
        manifests=len(snapshot.manifests(table.io)),
        snapshots=len(table.metadata.snapshots),
        data_bytes=sum(s for c, s in zip(content, sizes, strict=True) if c == 0),
    )
    assert layout.rows == cached.rows, f"table holds {layout.rows} rows, not {cached.rows}"
    assert layout.data_files == cached.files, f"{layout.data_files} files, not {cached.files}"
    assert layout.delete_files == 0, "the metadata path needs a table without delete files"
    return layout


def _check_answers(answers: list[Newest], method: str, expected: datetime) -> None:
    for answer in answers:
        assert answer.method == method, f"expected the {method} path, got {answer}"
        assert answer.value == expected, f"{method} path found {answer.value}, not {expected}"


def _profile(table: Table, repeat: int, limit: int = 15) -> str:
    profiler = cProfile.Profile()
    started = time.monotonic()
    profiler.enable()
    for _ in range(repeat):
        _avro.clear_caches()
        newest_column_value(table, COLUMN, summaries=ManifestSummaries())
    profiler.disable()
    elapsed = time.monotonic() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(limit)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    header = f"({repeat} calls, {ms(elapsed / repeat)} per call under the profiler)"
    return "\n".join([header, *(_shorten(ln) for ln in lines[start:])])


def _shorten(line: str) -> str:
    """Drop the directories of site-packages and the standard library from profiler paths."""
    return _LIBRARY_PATH.sub("", line)
