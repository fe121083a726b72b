"""PagerDuty Events API v2 events: one alert per (contract, violation type), kept open by a
stable ``dedup_key`` so that repeats update it and a resolve closes it.

Limits from PagerDuty's Events API v2 reference: ``payload.summary`` at most 1,024 characters,
``dedup_key`` at most 255.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal, NotRequired, TypedDict

from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)

MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
#: Violations listed one by one in ``custom_details``; the rest are counted (PagerDuty takes
#: events of at most 512 KB). ``elements`` always names them all.
MAX_LISTED = 100
SOURCE = "floe-contract-monitor"
CLIENT = "floe"
ELLIPSIS = "…"

Severity = Literal["critical", "error", "warning", "info"]
#: floe's severities are PagerDuty's, one for one.
_SEVERITY: dict[ViolationSeverity, Severity] = {
    ViolationSeverity.CRITICAL: "critical",
    ViolationSeverity.ERROR: "error",
    ViolationSeverity.WARNING: "warning",
    ViolationSeverity.INFO: "info",
}


class Violation(TypedDict):
    """One violation of the alert's group, as listed in ``custom_details``."""

    severity: str
    message: str
    element: str | None
    expected: str | None
    actual: str | None
    timestamp: str
    metadata: dict[str, str]


class Details(TypedDict):
    """``payload.custom_details``: the most severe violation's fields, then the whole group."""

    contract: str
    contract_version: str
    violation_type: str
    severity: str
    message: str
    element: str | None
    expected: str | None
    actual: str | None
    affected_consumers: list[str]
    metadata: dict[str, str]
    check_duration_seconds: float
    elements: list[str]
    violation_count: int
    violations: list[Violation]
    violations_not_listed: NotRequired[int]


#: ``payload`` of a trigger (functional form: one of its fields is named ``class``).
Payload = TypedDict(
    "Payload",
    {
        "summary": str,
        "source": str,
        "severity": Severity,
        "timestamp": str,
        "component": str,
        "class": str,
        "custom_details": Details,
    },
)


class TriggerEvent(TypedDict):
    routing_key: str
    event_action: Literal["trigger"]
    dedup_key: str
    client: str
    payload: Payload


class ResolveEvent(TypedDict):
    routing_key: str
    event_action: Literal["resolve"]
    dedup_key: str


def dedup_key(contract_name: str, violation_type: ViolationType) -> str:
    """``floe:<contract>:<violation type>``; a contract name too long for PagerDuty's 255
    characters is shortened and made unique again with a hash of it."""
    key = f"floe:{contract_name}:{violation_type.value}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(contract_name.encode()).hexdigest()[:16]
    room = MAX_DEDUP_KEY - len(f"floe:~{digest}:{violation_type.value}")
    return f"floe:{contract_name[:room]}~{digest}:{violation_type.value}"


def triggers(events: Sequence[ContractViolationEvent], routing_key: str) -> list[TriggerEvent]:
    """One trigger per (contract, violation type) of ``events``, in the order first seen."""
    groups: dict[tuple[str, ViolationType], list[ContractViolationEvent]] = {}
    for event in events:
        groups.setdefault((event.contract_name, event.violation_type), []).append(event)
    return [trigger(group, routing_key) for group in groups.values()]


def trigger(group: Sequence[ContractViolationEvent], routing_key: str) -> TriggerEvent:
    """The trigger for violations of one contract and type, named after the most severe."""
    top = max(group, key=lambda event: event.severity.rank)  # the first of equals
    more = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
    summary = (
        f"{top.severity.value.upper()}: contract {top.contract_name} {top.contract_version} "
        f"broke its {top.violation_type.value} SLA{more}: {top.message}"
    )
    details: Details = {
        "contract": top.contract_name,
        "contract_version": top.contract_version,
        "violation_type": top.violation_type.value,
        "severity": top.severity.value,
        "message": top.message,
        "element": top.element,
        "expected": top.expected_value,
        "actual": top.actual_value,
        "affected_consumers": list(
            dict.fromkeys(name for event in group for name in event.affected_consumers)
        ),
        "metadata": top.metadata,
        "check_duration_seconds": top.check_duration_seconds,
        "elements": list(dict.fromkeys(event.element for event in group if event.element)),
        "violation_count": len(group),
        "violations": [_violation(event) for event in group[:MAX_LISTED]],
    }
    if len(group) > MAX_LISTED:
        details["violations_not_listed"] = len(group) - MAX_LISTED
    payload: Payload = {
        "summary": truncate(summary, MAX_SUMMARY),
        "source": SOURCE,
        "severity": _SEVERITY[top.severity],
        "timestamp": top.timestamp.isoformat(),
        "component": top.contract_name,
        "class": top.violation_type.value,
        "custom_details": details,
    }
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(top.contract_name, top.violation_type),
        "client": CLIENT,
        "payload": payload,
    }


def resolve(notice: ResolvedNotice, routing_key: str) -> ResolveEvent:
    """The resolve that closes the alert the triggers for ``notice``'s violations opened."""
    return {
        "routing_key": routing_key,
        "event_action": "resolve",
        "dedup_key": dedup_key(notice.contract_name, notice.violation_type),
    }


def _violation(event: ContractViolationEvent) -> Violation:
    return {
        "severity": event.severity.value,
        "message": event.message,
        "element": event.element,
        "expected": event.expected_value,
        "actual": event.actual_value,
        "timestamp": event.timestamp.isoformat(),
        "metadata": event.metadata,
    }


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
