"""What Iceberg metadata says about a table, and the rule answers it gives exactly.

Row counts and null counts from the snapshot summary and the manifests are exact only when no
delete file applies (deleted rows are still counted) and, for null counts, when every data
file carries one for the column. Anything else is left to a scan.

Manifests never change once written, so ``TableFacts`` keeps what each said, by path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe_core.monitoring.checks._manifests import (
    EQUALITY_DELETES,
    POSITION_DELETES,
    Manifest,
    ManifestSummaries,
    read_live_files,
)
from floe_core.plugins.quality import Metric, QualityRule
from floe_core.quality.columns import Column

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.table import Table


@dataclass(frozen=True)
class DataFileFacts:
    """One live data file: where it is, whether it is Parquet, its rows, nulls and bounds."""

    path: str
    parquet: bool
    record_count: int
    null_counts: dict[int, int] | None  # by field id; None when the writer kept none
    lower_bounds: dict[int, bytes] | None = None  # serialized, by field id
    upper_bounds: dict[int, bytes] | None = None


@dataclass(frozen=True)
class Facts:
    """The live files of one snapshot (none without a snapshot) and its delete files."""

    has_snapshot: bool
    data_files: tuple[DataFileFacts, ...] = ()
    position_deletes: int = 0
    equality_deletes: int = 0
    total_records: int | None = None  # from the snapshot summary, when the writer kept it

    @property
    def deletes(self) -> int:
        """How many delete files apply."""
        return self.position_deletes + self.equality_deletes

    def row_count(self) -> int:
        """The number of rows; exact only when no delete file applies."""
        if self.total_records is not None:
            return self.total_records
        return sum(f.record_count for f in self.data_files)


class TableFacts:
    """Reads the facts of a table's current snapshot, each manifest at most once."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._lists = ManifestSummaries(capacity)
        self._manifests: OrderedDict[str, Facts] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def facts(self, table: Table) -> Facts:
        """What the table's current snapshot holds."""
        snapshot = table.current_snapshot()
        if snapshot is None:
            return Facts(has_snapshot=False)
        parts = [self._manifest(table.io, m) for m in self._lists.manifests(table.io, snapshot)]
        total = snapshot.summary.get("total-records") if snapshot.summary else None
        return Facts(
            has_snapshot=True,
            data_files=tuple(f for part in parts for f in part.data_files),
            position_deletes=sum(part.position_deletes for part in parts),
            equality_deletes=sum(part.equality_deletes for part in parts),
            total_records=int(total) if total is not None else None,
        )

    def _manifest(self, io: FileIO, manifest: Manifest) -> Facts:
        with self._lock:
            if manifest.manifest_path in self._manifests:
                self._manifests.move_to_end(manifest.manifest_path)
                return self._manifests[manifest.manifest_path]
        files, positions, equalities = [], 0, 0
        for data_file in read_live_files(io, manifest):
            if data_file.content == POSITION_DELETES:
                positions += 1
            elif data_file.content == EQUALITY_DELETES:
                equalities += 1
            else:
                files.append(
                    DataFileFacts(
                        data_file.file_path,
                        data_file.file_format == "PARQUET",
                        data_file.record_count,
                        data_file.null_value_counts,
                        data_file.lower_bounds,
                        data_file.upper_bounds,
                    )
                )
        facts = Facts(True, tuple(files), positions, equalities)
        with self._lock:
            self._manifests[manifest.manifest_path] = facts
            while len(self._manifests) > self._capacity:
                self._manifests.popitem(last=False)
        return facts


def metadata_answer(
    rule: QualityRule, facts: Facts, columns: dict[str, Column]
) -> tuple[float | None, str | None]:
    """``rule``'s exact count (or percent) from metadata, else None and why not (None: n/a)."""
    if not facts.has_snapshot:
        return 0.0, None  # no snapshot, no rows: every library metric counts nothing
    null_only = rule.metric is Metric.MISSING_VALUES and set(rule.missing_values) == {None}
    if rule.metric not in (Metric.ROW_COUNT, Metric.NULL_VALUES) and not null_only:
        return None, None
    if facts.deletes:
        return None, f"{facts.deletes} delete file(s) apply, so metadata counts deleted rows"
    rows = facts.row_count()
    if rule.metric is Metric.ROW_COUNT:
        return float(rows), None
    assert rule.element is not None
    column = columns[rule.element]
    if not column.top_level:
        return None, f"column '{column.name}' is a struct field; its null counts are not used"
    nulls = 0
    for data_file in facts.data_files:
        count = (data_file.null_counts or {}).get(column.field_id)
        if count is None and data_file.record_count:
            return None, f"data file {data_file.path} has no null count for '{column.name}'"
        nulls += count or 0
    if rule.percent:
        return (100.0 * nulls / rows if rows else 0.0), None
    return float(nulls), None
