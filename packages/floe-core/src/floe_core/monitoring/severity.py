"""How severe a finding is, from how much of an SLA it consumed.

INFO from ``info_pct`` (80%) of the SLA consumed, WARNING from ``warning_pct`` (90%), ERROR once
the SLA is breached. CRITICAL (repeated breaches) needs history and is applied on top.
"""

from __future__ import annotations

from floe_core.config import SeverityThresholds
from floe_core.events import ViolationSeverity


def consumed_severity(
    consumed_pct: float, thresholds: SeverityThresholds, *, breached: bool
) -> ViolationSeverity | None:
    """The severity of an SLA ``consumed_pct`` used up; None while below the INFO band."""
    if breached:
        return ViolationSeverity.ERROR
    if consumed_pct >= thresholds.warning_pct:
        return ViolationSeverity.WARNING
    if consumed_pct >= thresholds.info_pct:
        return ViolationSeverity.INFO
    return None
