"""Freshness: is the newest data in each table younger than the contract's latency SLA?"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from floe_core._percent import percent
from floe_core.contracts.durations import format_duration
from floe_core.contracts.model import DataContract
from floe_core.contracts.sla import FreshnessSLA, SLAError, freshness_slas
from floe_core.contracts.tables import ContractTable
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.iceberg import (
    ManifestSummaries,
    Newest,
    UnsupportedTable,
    newest_column_value,
    newest_data_commit,
)
from floe_core.monitoring.checks.base import Check, CheckContext, CheckOutcome, Finding
from floe_core.monitoring.severity import consumed_severity


class FreshnessCheck(Check):
    """Compares the age of each table's newest data with the latency/freshness SLA."""

    check_type = ViolationType.FRESHNESS

    def __init__(self, *, allow_metadata: bool = True) -> None:
        self.allow_metadata = allow_metadata
        # Manifests never change: one check instance serves every run and reads each once.
        self.summaries = ManifestSummaries()

    def applies(self, contract: DataContract, tables: Sequence[ContractTable]) -> bool:
        try:
            return bool(freshness_slas(contract))
        except SLAError:
            return True

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        slas = freshness_slas(ctx.contract)
        if not slas:
            return CheckOutcome.skipped(
                "the contract has no latency (or freshness) SLA in slaProperties"
            )
        targets = [(sla, table) for sla in slas for table in _tables_for(sla, ctx.tables)]
        if not targets:
            return CheckOutcome.skipped("the freshness SLA names no schema object of the contract")
        unresolved = [t for _, t in targets if t.identifier is None]
        if unresolved:
            return CheckOutcome.error("table_unresolved", unresolved[0].problem or "")
        tables: list[dict[str, Any]] = []
        findings: list[Finding] = []
        for sla, table in targets:
            assert table.identifier is not None
            try:
                newest = self._newest(ctx.view(table.identifier), sla)
            except UnsupportedTable as exc:
                return CheckOutcome.error(exc.reason, f"{table.identifier}: {exc}")
            detail, finding = self._judge(ctx, sla, table, newest)
            tables.append(detail)
            if finding is not None:
                findings.append(finding)
        breached = any(f.severity.rank >= ViolationSeverity.ERROR.rank for f in findings)
        status = CheckStatus.FAIL if breached else CheckStatus.PASS
        return CheckOutcome(status, {"tables": tables}, findings)

    def _newest(self, table: Any, sla: FreshnessSLA) -> Newest:
        if sla.column is None:
            return newest_data_commit(table)
        return newest_column_value(
            table, sla.column, allow_metadata=self.allow_metadata, summaries=self.summaries
        )

    def _judge(
        self, ctx: CheckContext, sla: FreshnessSLA, table: ContractTable, newest: Newest
    ) -> tuple[dict[str, Any], Finding | None]:
        element = sla.column
        subject = f"{table.identifier}.{sla.column}" if sla.column else str(table.identifier)
        threshold = sla.threshold.total_seconds()
        tolerance = ctx.config.clock_skew_tolerance_seconds
        detail: dict[str, Any] = {
            "table": table.identifier,
            "element": element,
            "method": newest.method,
            "threshold_seconds": threshold,
            "tolerance_seconds": tolerance,
        }
        if newest.fallback_reason:
            detail["fallback_reason"] = newest.fallback_reason
        expected = f"age <= {format_duration(sla.threshold)}"
        meta = {
            "table": table.identifier or "",
            "object": table.object_name,
            "method": newest.method,
        }
        if newest.value is None:
            detail.update(newest_data=None, age_seconds=None, consumed_pct=None)
            return detail, Finding(
                ViolationSeverity.ERROR,
                f"{table.identifier} has no data, so its freshness cannot be met "
                f"(SLA: newest data at most {format_duration(sla.threshold)} old)",
                element=element,
                expected_value=expected,
                actual_value="no data",
                metadata={**meta, "reason": "no_data"},
            )
        age = max((ctx.now - newest.value).total_seconds(), 0.0)
        consumed = 100.0 * age / threshold
        detail.update(
            newest_data=newest.value.isoformat(),
            age_seconds=round(age, 3),
            consumed_pct=round(consumed, 2),
        )
        breached = age > threshold + tolerance
        severity = consumed_severity(consumed, ctx.config.severity_thresholds, breached=breached)
        if severity is None:
            return detail, None
        age_text = format_duration(timedelta(seconds=age))
        if breached:
            message = (
                f"{subject} is stale: newest data is {age_text} old, beyond the "
                f"{format_duration(sla.threshold)} freshness SLA"
            )
        else:
            message = (
                f"{subject} is close to its freshness SLA: newest data is {age_text} old, "
                f"{percent(consumed)} of the {format_duration(sla.threshold)} allowed"
            )
        return detail, Finding(
            severity,
            message,
            element=element,
            expected_value=expected,
            actual_value=f"age {age_text}",
            metadata={**meta, "consumed_pct": f"{consumed:.1f}"},
        )


def _tables_for(sla: FreshnessSLA, tables: list[ContractTable]) -> list[ContractTable]:
    if sla.table is not None:
        return [t for t in tables if t.object_name == sla.table]
    if sla.column is not None and len(tables) > 1:
        head = sla.column.split(".")[0]
        having = [
            t for t in tables if any(p.name == head for p in t.schema_object.properties or [])
        ]
        return having or tables
    return tables
