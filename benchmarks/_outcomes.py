"""What floe, datacontract-cli and Soda each concluded, rule by rule, in one comparable form.

Keys: ``freshness`` (the SLA on orders.updated_at), ``schema`` (the table's columns and types
against the contract's properties) and one key per quality rule ``id`` (see ``_contracts``).
A check only one tool makes is kept under a key of its own (``datacontract:<check key>``,
``soda:<column>.<check>``), so the report can say what the other did not check.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from _contracts import RULES

_RULE_IDS = frozenset(r.id for r in RULES)
# datacontract-cli's schema checks that read only the schema, as floe's schema_drift does;
# its others (field_required, field_primary_key_unique) count rows and are kept apart.
_DC_SCHEMA_TYPES = frozenset({"field_is_present", "field_type", "field_physical_type"})
_STATUS = {
    "pass": "pass",
    "passed": "pass",
    "ok": "pass",
    "fail": "fail",
    "failed": "fail",
    "error": "error",
    "warning": "warning",
    "skipped": "skipped",
}
_SODA_STATUS = {
    "PASSED": "pass",
    "FAILED": "fail",
    "WARN": "warning",
    "NOT_EVALUATED": "error",
    "EXCLUDED": "skipped",
}


@dataclass(frozen=True)
class Outcome:
    """One conclusion: pass, fail, warning, error or skipped, and the figure behind it.

    ``value`` is a measured figure both tools should find alike (a count, a percentage, a
    timestamp); ``detail`` is shown to the reader, never compared.
    """

    status: str
    value: str | None = None
    detail: str | None = None

    def shown(self) -> str | None:
        return self.value if self.value is not None else self.detail


@dataclass
class Agreement:
    """How floe's outcomes and a peer's (datacontract, soda) compare on the keys both report."""

    agreed: dict[str, Outcome] = field(default_factory=dict)
    disagreed: dict[str, tuple[Outcome, Outcome]] = field(default_factory=dict)
    values_differ: dict[str, tuple[str, str]] = field(default_factory=dict)
    only_floe: list[str] = field(default_factory=list)
    only_peer: list[str] = field(default_factory=list)
    peer: str = "datacontract"

    @property
    def ok(self) -> bool:
        return bool(self.agreed) and not self.disagreed

    def describe(self) -> str:
        parts = [f"{k} {o.status}" for k, o in self.agreed.items()]
        text = f"agree on {len(self.agreed)}: " + ", ".join(parts)
        if self.disagreed:
            text += "; DISAGREE on " + ", ".join(
                f"{k} (floe {a.status}, {self.peer} {b.status})"
                for k, (a, b) in self.disagreed.items()
            )
        return text


def floe_outcomes(report: dict[str, Any]) -> dict[str, Outcome]:
    """From ``floe sla check --format json``."""
    outcomes: dict[str, Outcome] = {}
    violations = report.get("violations") or []
    for result in report.get("results") or []:
        status = _STATUS.get(str(result.get("status")), str(result.get("status")))
        details = result.get("details") or {}
        kind = result.get("check_type")
        if kind == "freshness":
            tables = details.get("tables") or [{}]
            outcomes["freshness"] = Outcome(status, tables[0].get("newest_data"))
        elif kind == "schema_drift":
            changes = details.get("changes", "?")
            outcomes["schema"] = Outcome(status, detail=f"{changes} differences")
        elif kind == "quality":
            outcomes.update(_floe_quality(status, details, violations))
        else:
            outcomes[f"floe:{kind}"] = Outcome(status)
    return outcomes


def datacontract_outcomes(report: dict[str, Any]) -> dict[str, Outcome]:
    """From ``datacontract test --output-format json``."""
    outcomes: dict[str, Outcome] = {}
    schema: list[str] = []
    for check in report.get("checks") or []:
        result = check.get("result")
        status = "not run" if result is None else _STATUS.get(str(result), str(result))
        diagnostics = check.get("diagnostics") or {}
        if check.get("type") == "servicelevel_freshness":
            outcomes["freshness"] = Outcome(status, diagnostics.get("latest_timestamp"))
        elif check.get("type") in _DC_SCHEMA_TYPES:
            schema.append(status)
        elif check.get("qualityId") in _RULE_IDS:
            value = diagnostics.get("percent", diagnostics.get("value"))
            outcomes[check["qualityId"]] = Outcome(status, None if value is None else str(value))
        else:
            outcomes[f"datacontract:{check.get('key') or check.get('name')}"] = Outcome(status)
    if schema:
        worst = next((s for s in schema if s != "pass"), "pass")
        outcomes["schema"] = Outcome(worst, detail=f"{len(schema)} presence/type checks")
    return outcomes


def soda_outcomes(report: dict[str, Any]) -> dict[str, Outcome]:
    """From the JSON ``_soda_cli.py`` writes of ``soda contract verify``'s result.

    A check translated from a quality rule is named by the rule's ``id``; ``freshness`` and
    ``schema`` by their type; the ``missing`` checks from ``required`` are Soda's alone.
    The value is what Soda compared with the threshold (the freshness check's: the newest
    ``updated_at``, in UTC).
    """
    outcomes: dict[str, Outcome] = {}
    for check in report.get("checks") or []:
        outcome = str(check.get("outcome"))
        status = _SODA_STATUS.get(outcome, outcome.lower())
        kind, name = check.get("type"), check.get("name")
        if kind == "freshness":
            outcomes["freshness"] = Outcome(status, check.get("max_timestamp_utc"))
        elif kind == "schema":
            outcomes["schema"] = Outcome(status, detail=_schema_detail(check))
        elif name in _RULE_IDS:
            value = check.get("threshold_value")
            outcomes[str(name)] = Outcome(status, None if value is None else str(value))
        else:
            where = f"{check['column']}." if check.get("column") else ""
            outcomes[f"soda:{where}{kind}"] = Outcome(status)
    return outcomes


def compare(
    floe: dict[str, Outcome], other: dict[str, Outcome], peer: str = "datacontract"
) -> Agreement:
    """Statuses must match on every shared key; differing figures are reported, not judged."""
    agreement = Agreement(peer=peer)
    for key in floe.keys() & other.keys():
        a, b = floe[key], other[key]
        if a.status != b.status:
            agreement.disagreed[key] = (a, b)
            continue
        agreement.agreed[key] = a
        if a.value is not None and b.value is not None and not _same_value(a.value, b.value):
            agreement.values_differ[key] = (a.value, b.value)
    order = {k: i for i, k in enumerate(["freshness", "schema", *(r.id for r in RULES)])}
    agreement.agreed = dict(sorted(agreement.agreed.items(), key=lambda kv: order.get(kv[0], 99)))
    agreement.only_floe = sorted(floe.keys() - other.keys())
    agreement.only_peer = sorted(other.keys() - floe.keys())
    return agreement


def _schema_detail(check: dict[str, Any]) -> str:
    """Soda's schema check counts its findings (missing, extra, retyped, moved columns)."""
    count = check.get("threshold_value")
    return f"{count if count is not None else '?'} differences"


def _floe_quality(
    status: str, details: dict[str, Any], violations: list[dict[str, Any]]
) -> dict[str, Outcome]:
    """One outcome per rule from the quality check's details, else from its violations."""
    outcomes: dict[str, Outcome] = {}
    for item in _walk(details):
        rule_id = _rule_id(item)
        if rule_id is None and isinstance(item.get("rule"), dict):
            rule_id = _rule_id(item["rule"])  # a RuleResult: {"rule": {...}, "status": ...}
        rule_status = _item_status(item)
        if rule_id is not None and rule_status is not None:
            outcomes[rule_id] = Outcome(rule_status, _item_value(item))
    if outcomes or status not in ("pass", "fail"):
        return outcomes
    # No per-rule details: a rule failed if a quality violation names it.
    quality = [v for v in violations if v.get("violation_type") == "quality"]
    named = {
        value
        for v in quality
        for item in _walk(v)
        for value in item.values()
        if isinstance(value, str)
    }
    failed = _RULE_IDS & named
    if status == "fail" and not failed:
        return {}  # failed, but the output does not say which rule: nothing to compare
    return {rid: Outcome("fail" if rid in failed else "pass") for rid in _RULE_IDS}


def _walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from _walk(child)
    elif isinstance(node, list):
        for child in node:
            yield from _walk(child)


def _rule_id(item: dict[str, Any]) -> str | None:
    for key in ("rule_id", "quality_id", "id", "rule", "name"):
        if isinstance(item.get(key), str) and item[key] in _RULE_IDS:
            return str(item[key])
    return None


def _item_status(item: dict[str, Any]) -> str | None:
    for key in ("status", "result", "outcome"):
        if isinstance(item.get(key), str) and item[key].lower() in _STATUS:
            return _STATUS[item[key].lower()]
    if isinstance(item.get("passed"), bool):
        return "pass" if item["passed"] else "fail"
    return None


def _item_value(item: dict[str, Any]) -> str | None:
    for key in ("measured", "percent", "actual_percent", "value", "actual", "actual_value"):
        if item.get(key) is not None and not isinstance(item[key], dict | list):
            return str(item[key])
    return None


def _same_value(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        pass
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    except ValueError:
        return a == b
