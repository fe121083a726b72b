"""The live files of a table's current snapshot: data files with their stats, and delete files.

Row counts and null counts from the snapshot summary and the manifests are exact only when no
delete file applies (deleted rows are still counted) and, for null counts, when every data
file carries one for the column. Manifests never change once written, so ``TableFacts`` keeps
what each said, by path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe_core.iceberg._manifests import (
    EQUALITY_DELETES,
    LRU,
    POSITION_DELETES,
    Manifest,
    ManifestSummaries,
    read_live_files,
)

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.table import Table

    from floe_core.iceberg._view import TableView


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
        self._manifests: LRU[str, Facts] = LRU(capacity)

    def facts(self, table: Table | TableView) -> Facts:
        """What the table's current snapshot holds."""
        from floe_core.iceberg._view import as_view

        table = as_view(table)
        snapshot = table.current_snapshot()
        if snapshot is None:
            return Facts(has_snapshot=False)
        manifests = self._lists.manifests(table.io, snapshot)
        parts = self._manifests.get_many(
            [m.manifest_path for m in manifests],
            lambda position: _manifest_facts(table.io, manifests[position]),
        )
        total = snapshot.summary.get("total-records") if snapshot.summary else None
        return Facts(
            has_snapshot=True,
            data_files=tuple(f for part in parts for f in part.data_files),
            position_deletes=sum(part.position_deletes for part in parts),
            equality_deletes=sum(part.equality_deletes for part in parts),
            total_records=int(total) if total is not None else None,
        )


def _manifest_facts(io: FileIO, manifest: Manifest) -> Facts:
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
    return Facts(True, tuple(files), positions, equalities)
