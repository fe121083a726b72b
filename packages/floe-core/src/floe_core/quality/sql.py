"""SQL text for quality rules: quoted identifiers, bound values, one aggregate per metric.

Names never reach SQL unquoted and values never reach it at all: identifiers are quoted (a
double quote doubled), struct fields are string literals (a single quote doubled), and the
values a rule lists are bound parameters, filtered to those the column's type can hold.

Definitions, each a count of rows (``percent`` divides by the row count, times 100):

- ``nullValues``: rows where the column is null.
- ``missingValues``: rows whose value is one of ``arguments.missingValues`` (null counts
  only when listed; without the argument, only null is missing).
- ``invalidValues``: non-null rows not among ``arguments.validValues`` or not matching
  ``arguments.pattern`` (a RE2 search; anchor it with ``^...$`` to match the whole value).
- ``duplicateValues``: non-null rows whose value already occurred, ``count - count distinct``;
  at object level over ``arguments.properties`` together (nulls compare equal there). Given
  the range every value lies in (see ``ranges``), the distinct values of an integer column
  are the bits set in a bitmap of that range.
- ``rowCount``: rows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from floe_core.duckdb_worker.session import quote_literal
from floe_core.plugins.quality import Metric, QualityRule, Scalar
from floe_core.quality.columns import Column

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyiceberg.types import IcebergType

_PLACEHOLDER = re.compile(r"\$?\{(object|table|property|column)\}")


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def column_sql(parts: Sequence[str]) -> str:
    """The expression for a column: its top-level name, then struct fields by literal."""
    head, *fields = parts
    expr = quote_ident(head)
    for field in fields:
        expr = f"struct_extract({expr}, {quote_literal(field)})"
    return expr


class Params:
    """Collects bound parameter values and hands out their ``$name`` placeholders."""

    def __init__(self) -> None:
        self.values: dict[str, Scalar] = {}

    def add(self, value: Scalar) -> str:
        """A placeholder bound to ``value``."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _kind(iceberg_type: IcebergType) -> str:
    from pyiceberg.types import (
        BooleanType,
        DecimalType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
    )

    if isinstance(iceberg_type, StringType):
        return "string"
    if isinstance(iceberg_type, IntegerType | LongType):
        return "integer"
    if isinstance(iceberg_type, FloatType | DoubleType | DecimalType):
        return "number"
    return "boolean" if isinstance(iceberg_type, BooleanType) else "text"


def _coerce(value: Scalar, kind: str) -> Scalar:
    """``value`` as the column kind holds it, or None when no value of the column equals it."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        if kind == "integer" and not isinstance(value, bool):
            number = float(value)  # type: ignore[arg-type]
            return int(number) if number.is_integer() else None
        if kind == "number" and not isinstance(value, bool):
            return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text)
    return None if kind in ("integer", "number") else text


def _in_list(column: str, kind: str, values: tuple[Scalar, ...], params: Params) -> str:
    """``column IN (...)`` over the non-null ``values`` its type can hold; ``false`` if none."""
    coerced = [_coerce(v, kind) for v in values if v is not None]
    usable = list(dict.fromkeys(v for v in coerced if v is not None))
    if not usable:
        return "false"
    subject = f"CAST({column} AS VARCHAR)" if kind == "text" else column
    return f"coalesce({subject} IN ({', '.join(params.add(v) for v in usable)}), false)"


def measure_sql(
    rule: QualityRule,
    columns: dict[str, Column],
    params: Params,
    bitmap: tuple[int, int] | None = None,
) -> str:
    """The aggregate counting ``rule``'s rows; ``columns`` resolves the names the rule uses.

    ``bitmap``: the (lowest, highest) value of a property-level duplicateValues rule's integer
    column, to count its distinct values in a bitmap; a value outside it makes DuckDB raise
    ``OutOfRangeException``.
    """
    metric = rule.metric
    if metric is Metric.ROW_COUNT:
        return "count(*)"
    if metric is Metric.DUPLICATE_VALUES and rule.element is None:
        keys = ", ".join(column_sql(columns[c].parts) for c in rule.properties)
        return f"count(*) - count(DISTINCT row({keys}))"
    assert rule.element is not None
    resolved = columns[rule.element]
    column, kind = column_sql(resolved.parts), _kind(resolved.type)
    if metric is Metric.NULL_VALUES:
        return f"count(*) - count({column})"
    if metric is Metric.DUPLICATE_VALUES and bitmap is not None:
        low, high = (int(bound) for bound in bitmap)  # integers from metadata, never text
        return f"count({column}) - coalesce(bit_count(bitstring_agg({column}, {low}, {high})), 0)"
    if metric is Metric.DUPLICATE_VALUES:
        return f"count({column}) - count(DISTINCT {column})"
    if metric is Metric.MISSING_VALUES:
        missing = [f"{column} IS NULL"] if None in rule.missing_values else []
        listed = _in_list(column, kind, rule.missing_values, params)
        return f"count_if({' OR '.join([*missing, listed])})"
    valid = []
    if rule.valid_values is not None:
        valid.append(_in_list(column, kind, rule.valid_values, params))
    if rule.pattern is not None:
        text = column if kind == "string" else f"CAST({column} AS VARCHAR)"
        valid.append(f"regexp_matches({text}, {params.add(rule.pattern)})")
    return f"count_if({column} IS NOT NULL AND NOT ({' AND '.join(valid)}))"


def bind_placeholders(query: str, relation: str, column: Column | None) -> str:
    """``query`` with ``${object}``/``${table}`` and ``${property}``/``${column}`` quoted in."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) in ("object", "table"):
            return quote_ident(relation)
        assert column is not None  # object-level rules naming a column are rejected earlier
        return column_sql(column.parts)

    return _PLACEHOLDER.sub(replace, query)
