"""Builders of the documents and models tests share: ODCS contracts, events, results.

Each builder has the defaults most tests want; a test passes what it checks explicitly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from floe_core.config import MonitoringConfig
from floe_core.contracts.model import DataContract
from floe_core.contracts.registered import RegisteredContract
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.testing.alerts import sample_violation

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A monitor's or router's clock; the test moves it."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


#: The columns of ``sales.orders`` most contracts describe.
ORDERS_PROPERTIES: list[dict[str, Any]] = [
    {"name": "id", "logicalType": "integer", "required": True},
    {"name": "updated_at", "logicalType": "timestamp"},
]


def odcs(
    *objects: dict[str, Any],
    name: str = "orders",
    version: str = "1.0.0",
    sla: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> dict[str, Any]:
    """An ODCS v3 contract document with these schema objects and SLA properties."""
    doc: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"{name}-contract",
        "name": name,
        "version": version,
        "status": "active",
        **fields,
    }
    if objects:
        doc["schema"] = list(objects)
    if sla:
        doc["slaProperties"] = list(sla)
    return doc


def table_object(
    table: str = "sales.orders",
    properties: list[dict[str, Any]] | None = None,
    quality: list[dict[str, Any]] | None = None,
    *,
    name: str = "orders",
) -> dict[str, Any]:
    """A schema object describing Iceberg table ``table`` (``namespace.table``)."""
    obj: dict[str, Any] = {"name": name, "physicalName": table, "physicalType": "table"}
    if properties is not None:
        obj["properties"] = properties
    if quality is not None:
        obj["quality"] = quality
    return obj


def registered(
    name: str = "orders",
    *,
    at: datetime = T0 - timedelta(days=7),
    overrides: MonitoringConfig | None = None,
) -> RegisteredContract:
    """A registered contract with no schema, registered ``at``."""
    return RegisteredContract(
        contract_name=name,
        contract_version="1.0.0",
        contract=DataContract.model_validate(odcs(name=name)),
        connection_config={},
        monitoring_overrides=overrides,
        registered_at=at,
    )


def violation(
    at: datetime,
    severity: ViolationSeverity = ViolationSeverity.ERROR,
    check_type: ViolationType = ViolationType.FRESHNESS,
    *,
    contract: str = "orders",
    message: str | None = None,
    element: str | None = None,
    metadata: dict[str, str] | None = None,
    duration: float = 0.01,
) -> ContractViolationEvent:
    """floe-core's sample violation (a stale table's) of ``check_type`` at ``severity``."""
    fields: dict[str, Any] = {"timestamp": at, "contract_name": contract, "element": element}
    if message is not None:
        fields["message"] = message
    if metadata is not None:
        fields["metadata"] = metadata
    return sample_violation(severity, check_type, check_duration_seconds=duration, **fields)


def check_result(
    at: datetime,
    status: CheckStatus,
    check_type: ViolationType = ViolationType.FRESHNESS,
    violation: ContractViolationEvent | None = None,
    *,
    contract: str = "orders",
    details: dict[str, Any] | None = None,
    duration: float = 0.01,
) -> CheckResult:
    """One run of ``check_type`` at ``at``."""
    return CheckResult(
        id=str(uuid.uuid4()),
        contract_name=contract,
        check_type=check_type,
        status=status,
        duration_seconds=duration,
        timestamp=at,
        details=details if details is not None else {},
        violation=violation,
    )


def sla_status(
    check_type: ViolationType,
    value: float,
    *,
    threshold: float = 3600.0,
    compliance: float = 50.0,
    failures: int = 2,
    breaches: int = 1,
    at: datetime = T0,
    contract: str = "orders",
) -> SLAStatus:
    """A stored SLA status row as of ``at``."""
    return SLAStatus(
        contract_name=contract,
        check_type=check_type,
        current_value=value,
        threshold=threshold,
        compliance_pct=compliance,
        last_check_time=at,
        consecutive_failures=failures,
        violation_count_24h=breaches,
        window_start=at - timedelta(hours=24),
    )
