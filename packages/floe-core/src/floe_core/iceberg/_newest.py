"""How new the data in an Iceberg table is: from manifests when they are exact, else a scan.

Column upper bounds in the manifests are the exact maximum only when no delete file applies
(a deleted row may have held the maximum) and every live data file carries a bound (or holds
only nulls in that column). Otherwise only that one column is scanned, streaming batch by
batch, with positional deletes applied by pyiceberg's reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from floe_core.iceberg._view import TableView, as_view

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.types import NestedField

    from floe_core.iceberg._manifests import ManifestSummaries
    from floe_core.iceberg._view import Summary

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Summary keys written by writers that keep snapshot counts (pyiceberg, Spark, Flink, Trino).
_COUNT_KEYS = ("added-delete-files", "added-files-size", "total-data-files", "total-records")

Method = Literal["metadata", "scan", "snapshot"]


class UnsupportedTable(Exception):
    """The table cannot be read exactly (equality deletes) or the column cannot be used."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Newest:
    """The newest data time found (None: the table holds no data) and how it was found."""

    value: datetime | None
    method: Method
    fallback_reason: str | None = None  # why the metadata path could not answer exactly


def newest_data_commit(table: Table | TableView) -> Newest:
    """Commit time of the newest snapshot that added data; compactions (replace) add none."""
    view = as_view(table)
    current = view.current_snapshot()
    if current is None or _total_records(current.summary) == 0:
        return Newest(None, "snapshot")
    for snapshot in view.metadata.ancestors(current):
        summary = snapshot.summary
        if summary is None or summary.operation in ("replace", "delete"):
            continue
        if _added_data(summary):
            return Newest(_EPOCH + timedelta(milliseconds=snapshot.timestamp_ms), "snapshot")
    return Newest(None, "snapshot")


def _added_data(summary: Summary) -> bool:
    """Whether a snapshot added rows: not one that only added delete files, nor an empty append."""
    added = summary.get("added-records") or summary.get("added-data-files")
    if added is not None:
        return int(added) > 0
    if any(summary.get(key) is not None for key in _COUNT_KEYS):
        return False  # the writer keeps counts and counted no data added
    return summary.operation in ("append", "overwrite")


def _total_records(summary: object) -> int | None:
    total = summary.get("total-records") if hasattr(summary, "get") else None
    return int(total) if total is not None else None


def find_column(table: Table | TableView, column: str) -> NestedField:
    """The field named ``column`` (dotted for nested structs), matched case-insensitively last."""
    from pyiceberg.types import (
        DateType,
        TimestampNanoType,
        TimestampType,
        TimestamptzNanoType,
        TimestamptzType,
    )

    from floe_core.iceberg._fields import find_field

    field = find_field(table.schema(), column)
    if field is None:
        raise UnsupportedTable(
            "column_not_found",
            f"column '{column}' named by the freshness SLA's element does not exist in "
            f"table {'.'.join(table.name())}; fix the element or the table",
        )
    allowed = (TimestampType, TimestamptzType, TimestampNanoType, TimestamptzNanoType, DateType)
    if not isinstance(field.field_type, allowed):
        raise UnsupportedTable(
            "unsupported_column_type",
            f"column '{column}' is {field.field_type}, not a timestamp or date; the freshness "
            "SLA's element must name a timestamp, timestamptz or date column",
        )
    return field


def newest_column_value(
    table: Table | TableView,
    column: str,
    *,
    allow_metadata: bool = True,
    summaries: ManifestSummaries | None = None,
) -> Newest:
    """Newest value of ``column``: from manifest upper bounds when exact, else by scanning it.

    Pass the same ``summaries`` from one call to the next to read each manifest only once.
    """
    from floe_core.iceberg._manifests import ManifestSummaries

    table = as_view(table)
    field = find_column(table, column)
    column = table.schema().find_column_name(field.field_id) or column
    snapshot = table.current_snapshot()
    if snapshot is None:
        return Newest(None, "metadata")
    summaries = summaries if summaries is not None else ManifestSummaries()
    manifests = summaries.manifests(table.io, snapshot)
    parts = summaries.columns(table.io, manifests, field)
    if any(part.equality_delete_files for part in parts):
        raise UnsupportedTable(
            "equality_deletes",
            "the table has equality delete files, which pyiceberg cannot apply; floe will not "
            "report a freshness it cannot compute exactly",
        )
    deletes = sum(part.delete_files for part in parts)
    inexact = next((part.inexact for part in parts if part.inexact), None)
    if not allow_metadata:
        reason = "metadata path disabled"
    elif deletes:
        reason = f"{deletes} delete file(s) apply, so column bounds may include deleted rows"
    elif inexact:
        reason = inexact
    else:
        newest = max((part.newest for part in parts if part.newest is not None), default=None)
        return Newest(_to_datetime(field, newest), "metadata")
    return Newest(_to_datetime(field, _newest_by_scan(table, column)), "scan", reason)


def _newest_by_scan(table: TableView, column: str) -> int | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    newest: int | None = None
    reader = table.scan(selected_fields=(column,)).to_arrow_batch_reader()
    for batch in reader:
        array: pa.Array = batch.column(0)
        for part in column.split(".")[1:]:
            array = pc.struct_field(array, part)
        if len(array) == 0:
            continue
        integer_type = pa.int32() if array.type == pa.date32() else pa.int64()
        value = pc.max(array.cast(integer_type)).as_py()
        if value is not None:
            newest = value if newest is None else max(newest, value)
    return newest


def _to_datetime(field: NestedField, raw: int | None) -> datetime | None:
    from pyiceberg.types import DateType, TimestampNanoType, TimestamptzNanoType

    if raw is None:
        return None
    if isinstance(field.field_type, DateType):
        return _EPOCH + timedelta(days=raw)
    if isinstance(field.field_type, TimestampNanoType | TimestamptzNanoType):
        return _EPOCH + timedelta(microseconds=raw // 1000)
    return _EPOCH + timedelta(microseconds=raw)
