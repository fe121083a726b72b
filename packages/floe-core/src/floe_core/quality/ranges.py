"""Split an exact distinct count along the files' value ranges.

Counting duplicates needs every value of a column in one hash table. When the manifests'
lower and upper bounds show that groups of data files hold disjoint ranges of the column
(ids appended in order, dates loaded day by day), no value can occur in two groups, so the
duplicates of the whole table are the sum of each group's: smaller hash tables, the same
exact answer. Bounds may be truncated (strings), but truncated bounds still enclose the
values, so disjoint bounds still mean disjoint values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from floe_core.quality.columns import Column
from floe_core.quality.metadata import DataFileFacts

if TYPE_CHECKING:
    from collections.abc import Sequence


def disjoint_groups(
    files: Sequence[DataFileFacts], paths: Sequence[str], column: Column
) -> list[list[str]] | None:
    """``paths`` (aligned with ``files``) grouped by overlapping ranges; None if not provable."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.types import PrimitiveType

    if not column.top_level or not isinstance(column.type, PrimitiveType):
        return None
    spans: list[tuple[Any, Any, str]] = []
    for data_file, path in zip(files, paths, strict=True):
        if data_file.record_count == 0:
            continue
        nulls = (data_file.null_counts or {}).get(column.field_id)
        lower = (data_file.lower_bounds or {}).get(column.field_id)
        upper = (data_file.upper_bounds or {}).get(column.field_id)
        if lower is None or upper is None:
            if nulls == data_file.record_count:
                continue  # only nulls: no value to collide
            return None
        spans.append((from_bytes(column.type, lower), from_bytes(column.type, upper), path))
    spans.sort(key=lambda span: span[0])
    groups: list[list[str]] = []
    reach: Any = None
    for low, high, path in spans:
        if groups and low <= reach:
            groups[-1].append(path)
            reach = max(reach, high)
        else:
            groups.append([path])
            reach = high
    return groups if len(groups) > 1 else None
