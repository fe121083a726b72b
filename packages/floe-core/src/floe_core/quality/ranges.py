"""Exact distinct counts made cheaper by the value ranges the manifests record.

Counting duplicates needs every value of a column in one hash table. The manifests' lower and
upper bounds enclose every value of a data file (truncated string bounds still enclose them),
which allows two cheaper ways to the same exact answer:

- An integer column whose values all lie in a range not much wider than their number can be
  counted in a bitmap of that range (DuckDB's ``bitstring_agg``), one bit per possible value,
  in the same pass as the other rules: no hash table at all.
- When groups of data files hold disjoint ranges (ids appended in order, dates loaded day by
  day), no value can occur in two groups, so the duplicates of the whole table are the sum of
  each group's: smaller hash tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from floe_core.iceberg import DataFileFacts
from floe_core.quality.columns import Column

if TYPE_CHECKING:
    from collections.abc import Sequence


#: The widest range counted in a bitmap: 2^26 possible values, an 8 MiB bitmap per thread.
BITMAP_MAX_RANGE = 1 << 26
#: Possible values per value present, at most: a sparser bitmap is slower than hashing.
BITMAP_MAX_SPARSITY = 4


def _spans(files: Sequence[DataFileFacts], column: Column) -> list[tuple[Any, Any, int]] | None:
    """Each data file's (lower, upper, index) for ``column``; None where a bound is missing.

    Files without rows or with nulls only have no range and are left out.
    """
    from pyiceberg.conversions import from_bytes
    from pyiceberg.types import PrimitiveType

    if not column.top_level or not isinstance(column.type, PrimitiveType):
        return None
    spans: list[tuple[Any, Any, int]] = []
    for index, data_file in enumerate(files):
        if data_file.record_count == 0:
            continue
        nulls = (data_file.null_counts or {}).get(column.field_id)
        lower = (data_file.lower_bounds or {}).get(column.field_id)
        upper = (data_file.upper_bounds or {}).get(column.field_id)
        if lower is None or upper is None:
            if nulls == data_file.record_count:
                continue  # only nulls: no value to collide
            return None
        spans.append((from_bytes(column.type, lower), from_bytes(column.type, upper), index))
    return spans


def bitmap_range(files: Sequence[DataFileFacts], column: Column) -> tuple[int, int] | None:
    """The (lowest, highest) possible value of an integer ``column``, if a bitmap pays off."""
    from pyiceberg.types import IntegerType, LongType

    if not isinstance(column.type, IntegerType | LongType):
        return None
    spans = _spans(files, column)
    if not spans:
        return None
    lowest = min(low for low, _, _ in spans)
    highest = max(high for _, high, _ in spans)
    width = highest - lowest + 1
    values = sum(
        files[i].record_count - (files[i].null_counts or {}).get(column.field_id, 0)
        for _, _, i in spans
    )
    if width > BITMAP_MAX_RANGE or width > BITMAP_MAX_SPARSITY * max(values, 1):
        return None
    return int(lowest), int(highest)


def disjoint_groups(
    files: Sequence[DataFileFacts], paths: Sequence[str], column: Column
) -> list[list[str]] | None:
    """``paths`` (aligned with ``files``) grouped by overlapping ranges; None if not provable."""
    if len(paths) != len(files):
        raise ValueError(f"{len(paths)} paths for {len(files)} data files")
    spans = _spans(files, column)
    if spans is None:
        return None
    spans.sort(key=lambda span: span[0])
    groups: list[list[str]] = []
    reach: Any = None
    for low, high, index in spans:
        if groups and low <= reach:
            groups[-1].append(paths[index])
            reach = max(reach, high)
        else:
            groups.append([paths[index]])
            reach = high
    return groups if len(groups) > 1 else None
