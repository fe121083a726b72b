"""Read a contract's ODCS quality rules (object and property level) into typed ``QualityRule``s.

A rule that cannot be evaluated as written keeps its place, with ``problem`` saying what is
wrong and how to fix it; the check reports it as ``error`` and evaluates the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from floe_core.contracts.model import DataQuality, SchemaProperty
from floe_core.contracts.tables import ContractTable
from floe_core.events import ViolationSeverity
from floe_core.plugins.quality import Condition, Metric, Operator, QualityRule, RuleType, Scalar

_METRICS = {m.value.lower(): m for m in Metric}
_COLUMN_METRICS = {Metric.NULL_VALUES, Metric.MISSING_VALUES, Metric.INVALID_VALUES}
_SEVERITIES = {
    "info": ViolationSeverity.INFO,
    "warning": ViolationSeverity.WARNING,
    "warn": ViolationSeverity.WARNING,
    "error": ViolationSeverity.ERROR,
    "critical": ViolationSeverity.CRITICAL,
}
_COLUMN_PLACEHOLDERS = ("${property}", "${column}", "{property}", "{column}")


class _Invalid(ValueError):
    """A rule that cannot be evaluated as written."""


@dataclass(frozen=True)
class TableRules:
    """The quality rules of one schema object, with the table it describes."""

    table: ContractTable
    rules: list[QualityRule]


def contract_rules(tables: list[ContractTable]) -> list[TableRules]:
    """Every schema object that has quality rules, object-level rules first."""
    found: list[TableRules] = []
    for index, table in enumerate(tables):
        obj = table.schema_object
        columns = {p.name: _column(p) for p in obj.properties or [] if p.name}
        base = f"schema[{index}]"
        rules = [
            parse_rule(q, f"{base}.quality[{i}]", table.object_name, None, columns)
            for i, q in enumerate(obj.quality or [])
        ]
        for path, column, prop in _properties(obj.properties or [], f"{base}.properties", ""):
            rules.extend(
                parse_rule(q, f"{path}.quality[{i}]", table.object_name, column, columns)
                for i, q in enumerate(prop.quality or [])
            )
        if rules:
            found.append(TableRules(table, rules))
    return found


def _column(prop: SchemaProperty) -> str:
    return (prop.physicalName or prop.name or "").strip()


def _properties(
    props: list[SchemaProperty], path: str, prefix: str
) -> Iterator[tuple[str, str, SchemaProperty]]:
    for index, prop in enumerate(props):
        here, column = f"{path}[{index}]", prefix + _column(prop)
        yield here, column, prop
        yield from _properties(prop.properties or [], f"{here}.properties", column + ".")


def parse_rule(
    q: DataQuality, path: str, object_name: str, element: str | None, columns: dict[str, str]
) -> QualityRule:
    """One ODCS rule as a ``QualityRule``; ``columns`` maps property names to column names."""
    kind = _type(q)
    metric_text = (q.metric or q.rule or "").strip()
    fields: dict[str, Any] = {
        "name": q.id or q.name or metric_text or (kind.value if kind else str(q.type)),
        "path": path,
        "object_name": object_name,
        "element": element,
        "type": kind or RuleType.CUSTOM,
        "unit": q.unit,
        "severity": _SEVERITIES.get((q.severity or "").strip().lower(), ViolationSeverity.ERROR),
        "dimension": q.dimension,
        "query": q.query,
    }
    try:
        if kind is None:
            raise _Invalid(
                f"type '{q.type}' is not an ODCS rule type; use library, sql, text or custom"
            )
        if kind in (RuleType.LIBRARY, RuleType.SQL):
            fields["conditions"] = _conditions(q)
        if kind is RuleType.LIBRARY:
            fields.update(_library(q, metric_text, element, columns))
        elif kind is RuleType.SQL:
            _check_sql(q, element)
    except _Invalid as exc:
        fields["problem"] = str(exc)
    return QualityRule(**fields)


def _type(q: DataQuality) -> RuleType | None:
    text = (q.type or "").strip().lower()
    if not text:
        if q.metric or q.rule:
            return RuleType.LIBRARY
        if q.query:
            return RuleType.SQL
        return RuleType.CUSTOM if q.engine or q.implementation else RuleType.LIBRARY
    return next((t for t in RuleType if t.value == text), None)


def _conditions(q: DataQuality) -> tuple[Condition, ...]:
    conditions = []
    for op in Operator:
        value = getattr(q, op.value)
        if value is None:
            continue
        if op in (Operator.MUST_BE_BETWEEN, Operator.MUST_NOT_BE_BETWEEN):
            values = tuple(sorted(_number(op, v) for v in value))
        else:
            values = (_number(op, value),)
        conditions.append(Condition(operator=op, values=values))
    if not conditions:
        raise _Invalid(
            "the rule has no operator; add one of " + ", ".join(op.value for op in Operator)
        )
    return tuple(conditions)


def _number(op: Operator, value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _Invalid(f"{op.value} must be a number, not {type(value).__name__}") from None


def _library(
    q: DataQuality, metric_text: str, element: str | None, columns: dict[str, str]
) -> dict[str, Any]:
    metric = _METRICS.get(metric_text.lower())
    if metric is None:
        raise _Invalid(
            f"metric '{metric_text}' is not an ODCS library metric; use one of "
            + ", ".join(m.value for m in Metric)
        )
    unit = (q.unit or "rows").strip().lower()
    if unit not in ("rows", "percent"):
        raise _Invalid(f"unit '{q.unit}' is not supported; use rows (the default) or percent")
    if unit == "percent" and metric is Metric.ROW_COUNT:
        raise _Invalid("rowCount counts rows; remove unit: percent")
    args = q.arguments or {}
    fields: dict[str, Any] = {"metric": metric}
    if metric in _COLUMN_METRICS and element is None:
        raise _Invalid(
            f"{metric.value} applies to one column; put the rule under the property's quality"
        )
    if metric is Metric.MISSING_VALUES:
        fields["missing_values"] = tuple(_scalars(args.get("missingValues", [None])))
    elif metric is Metric.INVALID_VALUES:
        valid, pattern = args.get("validValues"), args.get("pattern")
        if valid is None and pattern is None:
            raise _Invalid("invalidValues needs arguments.validValues or arguments.pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise _Invalid("arguments.pattern must be a regular expression string")
        fields["valid_values"] = None if valid is None else tuple(_scalars(valid))
        fields["pattern"] = pattern
    elif metric is Metric.DUPLICATE_VALUES and element is None:
        names = args.get("properties")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise _Invalid(
                "an object-level duplicateValues rule needs arguments.properties, the list of "
                "properties that together must be unique"
            )
        fields["properties"] = tuple(columns.get(n, n) for n in names)
    return fields


def _scalars(values: object) -> list[Scalar]:
    items: list[object] = list(values) if isinstance(values, list) else [values]
    scalars = [v for v in items if v is None or isinstance(v, str | int | float | bool)]
    if len(scalars) != len(items):
        raise _Invalid("rule arguments must list plain values (strings, numbers, null)")
    return scalars


def _check_sql(q: DataQuality, element: str | None) -> None:
    if not (q.query or "").strip():
        raise _Invalid("a sql rule needs a query returning one number")
    if element is None and any(p in (q.query or "") for p in _COLUMN_PLACEHOLDERS):
        raise _Invalid("${property} and ${column} only work in a property's quality rules")
