"""Sample violations for testing alert channels, floe's own and third parties'."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from floe_core.events import ContractViolationEvent, ViolationSeverity, ViolationType
from floe_core.plugins.alert_channel import AlertChannelPlugin

T = TypeVar("T")

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


def run_and_close(channel: AlertChannelPlugin, job: Awaitable[T]) -> T:
    """Await ``job`` (a call of ``channel``'s) in a new event loop, then close the channel."""

    async def main() -> T:
        try:
            return await job
        finally:
            await channel.aclose()

    return asyncio.run(main())
