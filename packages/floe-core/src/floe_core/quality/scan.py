"""The rules metadata cannot answer, measured in DuckDB: one aggregate pass, then sql rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from floe_core.iceberg import Facts
from floe_core.plugins.quality import Metric, QualityRule, RuleResult, RuleType
from floe_core.quality.columns import Column
from floe_core.quality.engine import Engine, OutOfBounds, RuleError, Settings
from floe_core.quality.ranges import bitmap_range, disjoint_groups
from floe_core.quality.source import Source, choose_source
from floe_core.quality.sql import Params, column_sql, measure_sql
from floe_core.telemetry import tracing

if TYPE_CHECKING:
    from floe_core.iceberg import TableView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scanned:
    """The results by rule index, the passes over the data, and what they read."""

    results: dict[int, RuleResult]
    scans: int
    source: Source


def columns_of(rule: QualityRule) -> list[str]:
    """The column names a rule reads."""
    if rule.type is RuleType.SQL:
        return [rule.element] if rule.element else []
    if rule.metric is Metric.ROW_COUNT:
        return []
    return [*([rule.element] if rule.element else []), *rule.properties]


def scan_rules(
    table: TableView,
    facts: Facts,
    rules: list[tuple[int, QualityRule]],
    columns: dict[str, Column],
    settings: Settings,
) -> Scanned:
    """Evaluate library ``rules`` in one pass over the table, and each sql rule."""
    library = [(i, r) for i, r in rules if r.type is RuleType.LIBRARY]
    sql = [(i, r) for i, r in rules if r.type is RuleType.SQL]
    read = {columns[n].field_id: columns[n] for _, r in library for n in columns_of(r)}
    source = choose_source(table, facts, list(read.values()), every=bool(sql))
    engine = Engine(table, source, list(read.values()), settings)
    done: dict[int, RuleResult] = {}
    try:
        with tracing.step(tracing.ENGINE_SCAN, **{"floe.table": _name(table)}), engine:
            done.update(_library_pass(engine, facts, library, columns))
            for index, rule in sql:
                column = columns[rule.element] if rule.element else None
                try:
                    measured = engine.sql(rule.query or "", column)
                except RuleError as exc:
                    done[index] = RuleResult.not_evaluated(rule, exc.reason, str(exc))
                else:
                    done[index] = RuleResult.judged(rule, measured, "sql")
    except RuleError as exc:  # the engine could not open the table's data
        for index, rule in rules:
            done.setdefault(index, RuleResult.not_evaluated(rule, exc.reason, str(exc)))
    return Scanned(done, engine.scans, source)


def _name(table: TableView) -> str:
    return ".".join(str(part) for part in table.name())


def _library_pass(
    engine: Engine,
    facts: Facts,
    library: list[tuple[int, QualityRule]],
    columns: dict[str, Column],
) -> dict[int, RuleResult]:
    done: dict[int, RuleResult] = {}
    measured: list[tuple[int, QualityRule]] = []
    for index, rule in library:
        try:
            if rule.pattern is not None:
                engine.check_pattern(rule.pattern)
            measured.append((index, rule))
        except RuleError as exc:
            done[index] = RuleResult.not_evaluated(rule, exc.reason, str(exc))
    if not measured:
        return done
    bitmaps = _bitmaps(facts, measured, columns)
    split = _split_duplicates(engine, facts, [m for m in measured if m[0] not in bitmaps], columns)
    measured = [(i, r) for i, r in measured if i not in split]
    try:
        try:
            rows, counts = _aggregate(engine, measured, columns, bitmaps)
        except OutOfBounds:
            if not bitmaps:
                raise
            # A writer recorded bounds that do not enclose its values: count by hashing.
            log.warning(
                "table %s: a data file's column bounds do not enclose its values; "
                "duplicates are counted again by hashing",
                ".".join(engine.table.name()),
            )
            rows, counts = _aggregate(engine, measured, columns, {})
        for index, (rule, groups) in split.items():
            column = column_sql(columns[rule.element or ""].parts)
            measured.append((index, rule))
            counts.append(float(engine.duplicates_by_group(column, groups)))
    except RuleError as exc:
        every = [*measured, *((i, r) for i, (r, _) in split.items())]
        return done | {i: RuleResult.not_evaluated(r, exc.reason, str(exc)) for i, r in every}
    for (index, rule), count in zip(measured, counts, strict=True):
        value = (100.0 * count / rows if rows else 0.0) if rule.percent else count
        done[index] = RuleResult.judged(rule, value, "scan")
    return done


def _aggregate(
    engine: Engine,
    measured: list[tuple[int, QualityRule]],
    columns: dict[str, Column],
    bitmaps: dict[int, tuple[int, int]],
) -> tuple[int, list[float]]:
    params = Params()
    measures = [measure_sql(rule, columns, params, bitmaps.get(i)) for i, rule in measured]
    return engine.aggregate(measures, params.values)


def _bitmaps(
    facts: Facts, measured: list[tuple[int, QualityRule]], columns: dict[str, Column]
) -> dict[int, tuple[int, int]]:
    """The value range of each property-level duplicateValues rule countable in a bitmap."""
    found = {}
    for index, rule in measured:
        if rule.metric is Metric.DUPLICATE_VALUES and rule.element is not None:
            span = bitmap_range(facts.data_files, columns[rule.element])
            if span is not None:
                found[index] = span
    return found


def _split_duplicates(
    engine: Engine,
    facts: Facts,
    measured: list[tuple[int, QualityRule]],
    columns: dict[str, Column],
) -> dict[int, tuple[QualityRule, list[list[str]]]]:
    """Property-level duplicateValues rules whose files fall in disjoint value ranges."""
    if engine.source.kind != "parquet":
        return {}
    split = {}
    for index, rule in measured:
        if rule.metric is Metric.DUPLICATE_VALUES and rule.element is not None:
            groups = disjoint_groups(facts.data_files, engine.source.files, columns[rule.element])
            if groups is not None:
                split[index] = (rule, groups)
    return split
