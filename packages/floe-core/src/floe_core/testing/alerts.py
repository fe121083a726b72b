"""Sample violations for testing alert channels, floe's own and third parties'."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from floe_core.events import ContractViolationEvent, ViolationSeverity, ViolationType

#: When the samples happened.
SAMPLE_TIME = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def sample_violation(
    severity: ViolationSeverity = ViolationSeverity.ERROR,
    check_type: ViolationType = ViolationType.FRESHNESS,
    **fields: Any,
) -> ContractViolationEvent:
    """A violation of contract ``orders`` 1.2.0 (a stale table's); ``fields`` override any
    field of ``ContractViolationEvent``."""
    values: dict[str, Any] = {
        "contract_name": "orders",
        "contract_version": "1.2.0",
        "violation_type": check_type,
        "severity": severity,
        "message": f"{check_type.value} {severity.value}",
        "element": "sales.orders",
        "expected_value": "age <= 1h",
        "actual_value": "age 3h",
        "timestamp": SAMPLE_TIME,
        "affected_consumers": ["finance-dashboard"],
        "check_duration_seconds": 0.25,
        "metadata": {"table": "sales.orders"},
    }
    return ContractViolationEvent(**{**values, **fields})
