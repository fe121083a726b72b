"""The quality rules Iceberg metadata answers exactly: row counts and null counts.

Row counts and null counts from the snapshot summary and the manifests are exact only when no
delete file applies (deleted rows are still counted) and, for null counts, when every data
file carries one for the column. Anything else is left to a scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from floe_core.plugins.quality import Metric, QualityRule

if TYPE_CHECKING:
    from floe_core.iceberg import Facts
    from floe_core.quality.columns import Column


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
