"""Violations and resolved notices as CloudEvents 1.0, in the HTTP structured content mode.

The envelope is the data model's: ``floe.contract.violation`` (or ``floe.contract.resolved``)
from ``floe-contract-monitor``, its ``data`` in camelCase JSON, the contract as ``subject``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from floe_core.events import ContractViolationEvent, ResolvedNotice

SOURCE: Final = "floe-contract-monitor"
VIOLATION_TYPE: Final = "floe.contract.violation"
RESOLVED_TYPE: Final = "floe.contract.resolved"
#: Content-Type of one event in structured mode, and of a JSON array of them (batched mode).
STRUCTURED_CONTENT_TYPE: Final = JSONFormat.CONTENT_TYPE
BATCH_CONTENT_TYPE: Final = "application/cloudevents-batch+json"


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as CloudEvents writes ``time``."""
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _cloudevent(event_type: str, subject: str, at: datetime, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(
        {
            "specversion": "1.0",
            "type": event_type,
            "source": SOURCE,
            "id": str(uuid.uuid4()),
            "time": _utc(at),
            "subject": subject,
            "datacontenttype": "application/json",
        },
        data,
    )


def violation_cloudevent(event: ContractViolationEvent) -> CloudEvent:
    """One violation as a ``floe.contract.violation`` event."""
    return _cloudevent(
        VIOLATION_TYPE,
        event.contract_name,
        event.timestamp,
        {
            "contractName": event.contract_name,
            "contractVersion": event.contract_version,
            "violationType": event.violation_type.value,
            "severity": event.severity.value,
            "message": event.message,
            "element": event.element,
            "expectedValue": event.expected_value,
            "actualValue": event.actual_value,
            "affectedConsumers": list(event.affected_consumers),
            "timestamp": iso(event.timestamp),
            "metadata": dict(event.metadata),
        },
    )


def resolved_cloudevent(notice: ResolvedNotice) -> CloudEvent:
    """A resolved notice as a ``floe.contract.resolved`` event, timed when it resolved."""
    return _cloudevent(
        RESOLVED_TYPE,
        notice.contract_name,
        notice.resolved_at,
        {
            "contractName": notice.contract_name,
            "contractVersion": notice.contract_version,
            "violationType": notice.violation_type.value,
            "elements": list(notice.elements),
            "alertedAt": iso(notice.alerted_at),
            "resolvedAt": iso(notice.resolved_at),
            "message": notice.message,
        },
    )


def structured(event: CloudEvent) -> bytes:
    """The body of one event in structured content mode."""
    return to_structured_event(event, JSONFormat()).body


def batch(events: Sequence[CloudEvent]) -> bytes:
    """The body of several events in batched content mode: a JSON array of structured events."""
    json_format = JSONFormat()
    return b"[" + b",".join(json_format.write(event) for event in events) + b"]"
