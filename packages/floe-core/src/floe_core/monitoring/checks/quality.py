"""Quality: do the contract's ODCS quality rules hold on the live tables?

Rules are evaluated by the quality plugin the manifest names (``plugins.quality``), else the
built-in ``duckdb`` one. Each failed rule is its own finding, with the rule's ODCS severity
(ERROR when it gives none); the check fails when a finding is ERROR or worse. A rule that
could not be evaluated makes the check ``error`` unless another failed it; text and custom
rules are listed as skipped. ``details`` holds the weighted score and one entry per rule.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from floe_core.contracts.model import DataContract
from floe_core.contracts.tables import ContractTable
from floe_core.errors import PluginError, PluginNotFoundError
from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.monitoring.checks.base import (
    Check,
    CheckContext,
    CheckOutcome,
    Finding,
    inner_timeout,
)
from floe_core.plugins.quality import (
    Metric,
    QualityPlugin,
    QualityRequest,
    QualityRule,
    RuleResult,
    RuleStatus,
    format_number,
)
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.quality.rules import contract_rules

log = logging.getLogger(__name__)

#: The plugin that evaluates rules when the manifest names none.
DEFAULT_PLUGIN = "duckdb"


class QualityCheck(Check):
    """Evaluates the contract's object- and property-level ODCS quality rules."""

    check_type = ViolationType.QUALITY

    def __init__(self) -> None:
        # Plugins keep what immutable manifests said: one instance per plugin choice.
        self._plugins: dict[tuple[PluginRegistry, str], QualityPlugin] = {}
        self._lock = threading.Lock()

    def applies(self, contract: DataContract, tables: Sequence[ContractTable]) -> bool:
        return bool(contract_rules(list(tables)))

    def evaluate(self, ctx: CheckContext) -> CheckOutcome:
        started = time.monotonic()
        found = contract_rules(ctx.tables)
        if not found:
            return CheckOutcome.skipped(
                "the contract has no quality rules (schema[].quality or "
                "schema[].properties[].quality)"
            )
        unresolved = [entry.table for entry in found if entry.table.identifier is None]
        if unresolved:
            return CheckOutcome.error("table_unresolved", unresolved[0].problem or "")
        plugin = self._plugin(ctx)
        if isinstance(plugin, CheckOutcome):
            return plugin
        results: list[tuple[str, RuleResult]] = []
        tables: list[dict[str, Any]] = []
        for entry in found:
            identifier = entry.table.identifier
            assert identifier is not None
            left = inner_timeout(ctx.config.check_timeout_seconds) - (time.monotonic() - started)
            request = QualityRequest(
                identifier=identifier, rules=tuple(entry.rules), timeout_seconds=max(left, 0.0)
            )
            if plugin.reads_table_views:
                answer = plugin.run_checks(ctx.view(identifier), request)
            else:  # a plugin of someone else's is given pyiceberg's table
                answer = plugin.run_checks(ctx.load_table(identifier), request)
            if [r.rule for r in answer.results] != entry.rules:
                return CheckOutcome.error(
                    "plugin_error",
                    f"quality plugin '{plugin.name}' did not return one result per rule for "
                    f"{identifier}; report it to the plugin's authors",
                )
            results.extend((identifier, r) for r in answer.results)
            summary = answer.model_dump(exclude={"results", "identifier"}, exclude_none=True)
            tables.append({"table": identifier, **summary})
        return _outcome(plugin, results, tables)

    def _plugin(self, ctx: CheckContext) -> QualityPlugin | CheckOutcome:
        spec = ctx.plugins.quality
        name = spec.type if spec is not None else DEFAULT_PLUGIN
        config = spec.config if spec is not None else {}
        key = (ctx.registry, json.dumps([name, config], sort_keys=True, default=str))
        with self._lock:
            cached = self._plugins.get(key)
        if cached is not None:
            return cached
        try:
            plugin: QualityPlugin = ctx.registry.create(PluginType.QUALITY, name, config)
        except PluginNotFoundError as exc:
            log.warning(
                "quality check skipped: %s",
                exc,
                extra={"floe.check.type": self.check_type.value, "floe.plugin": name},
            )
            return CheckOutcome.skipped(str(exc), plugin=name)
        except PluginError as exc:
            return CheckOutcome.error("plugin_error", str(exc), plugin=name)
        with self._lock:
            return self._plugins.setdefault(key, plugin)


def _outcome(
    plugin: QualityPlugin, results: list[tuple[str, RuleResult]], tables: list[dict[str, Any]]
) -> CheckOutcome:
    findings = [_finding(t, r) for t, r in results if r.status is RuleStatus.FAIL]
    details: dict[str, Any] = {
        "plugin": plugin.name,
        "quality_score": plugin.calculate_quality_score([r for _, r in results]),
        "rules": [_entry(t, r) for t, r in results],
        "tables": tables,
    }
    errors = [r for _, r in results if r.status is RuleStatus.ERROR]
    if any(f.severity.rank >= ViolationSeverity.ERROR.rank for f in findings):
        return CheckOutcome(CheckStatus.FAIL, details, findings)
    if errors:
        problems = "; ".join(f"{r.rule.path}: {r.message}" for r in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        message = f"{len(errors)} quality rule(s) could not be evaluated: {problems}{more}"
        reason = errors[0].reason if len({r.reason for r in errors}) == 1 else "rules_errored"
        return CheckOutcome(
            CheckStatus.ERROR, {"reason": reason, "message": message, **details}, findings
        )
    if all(r.status is RuleStatus.SKIPPED for _, r in results):
        details["reason"] = "the contract's quality rules are all text or custom rules"
        return CheckOutcome(CheckStatus.SKIPPED, details)
    return CheckOutcome(CheckStatus.PASS, details, findings)


def _entry(table: str, result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    entry: dict[str, Any] = {
        "rule": rule.name,
        "table": table,
        "path": rule.path,
        "element": rule.element,
        "type": rule.type.value,
        "metric": rule.metric.value if rule.metric else None,
        "severity": rule.severity.value,
        "status": result.status.value,
        "measured": result.measured,
        "expected": rule.expected if rule.conditions else None,
        "method": result.method,
    }
    if rule.dimension:
        entry["dimension"] = rule.dimension
    if result.reason:
        entry.update(reason=result.reason, message=result.message)
    return entry


def _finding(table: str, result: RuleResult) -> Finding:
    rule = result.rule
    subject = f"{table}.{rule.element}" if rule.element else table
    measured = format_number(result.measured) if result.measured is not None else "unknown"
    metadata = {
        "rule": rule.name,
        "table": table,
        "object": rule.object_name,
        "path": rule.path,
        "type": rule.type.value,
        "method": result.method or "",
    }
    if rule.metric:
        metadata["metric"] = rule.metric.value
    if rule.dimension:
        metadata["dimension"] = rule.dimension
    return Finding(
        rule.severity,
        f"{subject}: {_amount(result.rule, measured)}, where quality rule '{rule.name}' "
        f"({rule.path}) says {rule.expected}",
        element=rule.element,
        expected_value=rule.expected,
        actual_value=measured,
        metadata=metadata,
    )


def _amount(rule: QualityRule, measured: str) -> str:
    """What was measured, in words: ``3 null value(s)``, ``25% duplicate values``."""
    if rule.metric is Metric.ROW_COUNT:
        return f"{measured} row(s)"
    if rule.metric is not None:
        word = rule.metric.value.removesuffix("Values")
        return f"{measured}% {word} values" if rule.percent else f"{measured} {word} value(s)"
    unit = f" {rule.unit.strip()}" if rule.unit and rule.unit.strip() else ""
    return f"its {rule.type.value} query measured {measured}{unit}"
