"""The built-in quality plugin: Iceberg metadata where it is exact, else one DuckDB pass.

``rowCount`` and ``nullValues`` (and ``missingValues`` of null alone) come from the snapshot
and manifests when no delete file applies and the statistics exist. Every other library rule
of a table is one aggregate of a single streaming DuckDB query; each sql rule is its own
query. A table with equality deletes, which pyiceberg cannot apply, gets no number at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from floe_core._version import __version__
from floe_core.errors import PluginError
from floe_core.iceberg import Facts, TableFacts
from floe_core.plugins.metadata import FLOE_API_VERSION
from floe_core.plugins.quality import (
    QualityPlugin,
    QualityRequest,
    QualityResult,
    QualityRule,
    RuleResult,
    RuleType,
)
from floe_core.quality.columns import Column, ColumnNotFound, resolve
from floe_core.quality.engine import Settings
from floe_core.quality.metadata import metadata_answer
from floe_core.quality.scan import columns_of, scan_rules
from floe_core.quality.score import quality_score

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from floe_core.iceberg import TableView

_EQUALITY_DELETES = (
    "the table has equality delete files, which pyiceberg cannot apply; floe will not report "
    "a number it cannot compute exactly"
)


class DuckDBQualityConfig(BaseModel):
    """``plugins.quality.config`` of the duckdb plugin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # DuckDB spills to a temporary directory beyond it.
    memory_limit: str = Field(default="512MB", pattern=r"(?i)^\d+(\.\d+)?\s*([KMGT]i?B|B|%)$")
    threads: int | None = Field(default=None, ge=1)  # default: DuckDB's, one per core


class DuckDBQualityPlugin(QualityPlugin):
    """ODCS quality rules from Iceberg metadata and DuckDB."""

    name = "duckdb"
    version = __version__
    floe_api_version = FLOE_API_VERSION
    description = "ODCS quality rules from Iceberg metadata, else one DuckDB pass per table"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        try:
            options = DuckDBQualityConfig.model_validate(self.config)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "config"
            raise PluginError(
                f"config of quality plugin 'duckdb' is invalid at plugins.quality.config.{where}: "
                f"{error['msg']}; it accepts memory_limit (such as 512MB) and threads"
            ) from None
        self.settings = Settings(options.memory_limit, options.threads)
        self.facts = TableFacts()  # manifests never change: read each once per plugin

    @classmethod
    def get_config_schema(cls) -> type[DuckDBQualityConfig]:
        return DuckDBQualityConfig

    def calculate_quality_score(self, results: Sequence[RuleResult]) -> float | None:
        return quality_score(results)

    reads_table_views = True

    def run_checks(self, table: Table | TableView, request: QualityRequest) -> QualityResult:
        from floe_core.iceberg import as_view

        table = as_view(table)
        done: dict[int, RuleResult] = {}
        columns: dict[str, Column] = {}
        pending: list[int] = []
        for index, rule in enumerate(request.rules):
            outcome = _without_data(rule)
            if outcome is None:
                try:
                    for name in columns_of(rule):
                        columns.setdefault(name, resolve(table.schema(), name))
                except ColumnNotFound as exc:
                    outcome = RuleResult.not_evaluated(rule, "column_not_found", str(exc))
            if outcome is None:
                pending.append(index)
            else:
                done[index] = outcome
        facts = self.facts.facts(table) if pending else Facts(has_snapshot=False)
        fallback: str | None = None
        left: list[tuple[int, QualityRule]] = []
        for index in pending:
            rule = request.rules[index]
            if facts.equality_deletes:
                done[index] = RuleResult.not_evaluated(rule, "equality_deletes", _EQUALITY_DELETES)
                continue
            value, why = (None, None)
            if rule.type is RuleType.LIBRARY:
                value, why = metadata_answer(rule, facts, columns)
            if value is not None:
                done[index] = RuleResult.judged(rule, value, "metadata")
            else:
                fallback = fallback or why
                left.append((index, rule))
        settings = self.settings
        if request.timeout_seconds is not None:
            settings = replace(settings, deadline=time.monotonic() + request.timeout_seconds)
        scanned = scan_rules(table, facts, left, columns, settings) if left else None
        if scanned is not None:
            done.update(scanned.results)
        return QualityResult(
            identifier=request.identifier,
            results=tuple(done[i] for i in range(len(request.rules))),
            scans=scanned.scans if scanned else 0,
            source=scanned.source.kind if scanned else None,
            source_reason=scanned.source.reason if scanned else None,
            fallback_reason=fallback,
        )


def _without_data(rule: QualityRule) -> RuleResult | None:
    """The result of a rule that needs no data: malformed, or a text or custom rule."""
    if rule.problem is not None:
        return RuleResult.not_evaluated(rule, "invalid_rule", rule.problem)
    if rule.type in (RuleType.TEXT, RuleType.CUSTOM):
        kind = rule.type.value
        message = f"{kind} rules are not executable by floe; they are listed only"
        return RuleResult.not_evaluated(rule, f"{kind}_rule", message, skipped=True)
    return None
