"""floe's events as Alertmanager alerts (the body of ``POST /api/v2/alerts``).

An alert is identified by its labels: ``alertname``, ``contract``, ``violation_type``,
``severity``, ``element`` when there is one, and the configured extra labels. Severity is a
label, so when a violation changes severity the alert under the old one must be ended: a
firing alert is posted together with the same labels at every other severity, ended now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from floe_alert_alertmanager._config import AlertmanagerChannelConfig
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)

#: The ``alertname`` label of every alert floe sends.
ALERTNAME = "FloeContractViolation"


class PostableAlert(BaseModel):
    """One alert as Alertmanager's API v2 takes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime = Field(serialization_alias="startsAt")
    ends_at: datetime = Field(serialization_alias="endsAt")
    generator_url: str | None = Field(None, serialization_alias="generatorURL")


_ALERTS = TypeAdapter(list[PostableAlert])


def alerts_json(alerts: Sequence[PostableAlert]) -> bytes:
    """The JSON array Alertmanager's ``POST /api/v2/alerts`` takes."""
    return _ALERTS.dump_json(list(alerts), by_alias=True, exclude_none=True)


def alert_labels(
    contract: str,
    violation_type: ViolationType,
    severity: ViolationSeverity,
    element: str | None,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """The labels that identify one alert; no ``element`` label when there is none."""
    labels = {
        **extra,
        "alertname": ALERTNAME,
        "contract": contract,
        "violation_type": violation_type.value,
        "severity": severity.value,
    }
    if element:
        labels["element"] = element
    return labels


def firing_alerts(
    events: Sequence[ContractViolationEvent],
    settings: AlertmanagerChannelConfig,
    now: datetime,
) -> list[PostableAlert]:
    """One firing alert per (contract, violation type, element), at the most severe of its
    events, each followed by its labels at every other severity, ended ``now``."""
    ends_at = now + timedelta(minutes=settings.resolve_timeout_minutes)
    alerts: list[PostableAlert] = []
    for event in _most_severe(events):
        starts_at = min(_utc(event.timestamp), now)  # a clock ahead of ours must not reject it
        alerts.append(
            PostableAlert(
                labels=_labels_of(event, event.severity, settings),
                annotations=_firing_annotations(event),
                starts_at=starts_at,
                ends_at=ends_at,
                generator_url=settings.generator_url,
            )
        )
        alerts.extend(
            PostableAlert(
                labels=_labels_of(event, severity, settings),
                annotations={
                    "summary": f"{_subject(event)}: now {event.severity.value}",
                    "description": f"The violation is now {event.severity.value}: {event.message}",
                },
                starts_at=starts_at,
                ends_at=now,
                generator_url=settings.generator_url,
            )
            for severity in ViolationSeverity
            if severity is not event.severity
        )
    return alerts


def resolved_alerts(
    notice: ResolvedNotice, settings: AlertmanagerChannelConfig, now: datetime
) -> list[PostableAlert]:
    """The notice's alerts, for each of its elements (or none) at every severity, ended ``now``."""
    starts_at = min(_utc(notice.alerted_at), now)
    elements: list[str | None] = [*notice.elements] or [None]
    summary = (
        f"{notice.contract_name} {notice.contract_version}: {notice.violation_type.value} resolved"
    )
    return [
        PostableAlert(
            labels=alert_labels(
                notice.contract_name, notice.violation_type, severity, element, settings.labels
            ),
            annotations={"summary": summary, "description": notice.message},
            starts_at=starts_at,
            ends_at=now,
            generator_url=settings.generator_url,
        )
        for element in elements
        for severity in ViolationSeverity
    ]


def _most_severe(events: Sequence[ContractViolationEvent]) -> list[ContractViolationEvent]:
    """One event per (contract, violation type, element): the most severe, the first on ties."""
    chosen: dict[tuple[str, ViolationType, str | None], ContractViolationEvent] = {}
    for event in events:
        key = (event.contract_name, event.violation_type, event.element or None)
        if key not in chosen or event.severity.rank > chosen[key].severity.rank:
            chosen[key] = event
    return list(chosen.values())


def _labels_of(
    event: ContractViolationEvent,
    severity: ViolationSeverity,
    settings: AlertmanagerChannelConfig,
) -> dict[str, str]:
    return alert_labels(
        event.contract_name, event.violation_type, severity, event.element, settings.labels
    )


def _subject(event: ContractViolationEvent) -> str:
    on = f" on {event.element}" if event.element else ""
    return f"{event.contract_name} {event.contract_version}: {event.violation_type.value}{on}"


def _firing_annotations(event: ContractViolationEvent) -> dict[str, str]:
    lines = [event.message]
    if event.expected_value is not None:
        lines.append(f"Expected: {event.expected_value}")
    if event.actual_value is not None:
        lines.append(f"Actual: {event.actual_value}")
    if event.affected_consumers:
        lines.append(f"Affected consumers: {', '.join(event.affected_consumers)}")
    return {
        "summary": f"{_subject(event)} ({event.severity.value})",
        "description": "\n".join(lines),
    }


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
