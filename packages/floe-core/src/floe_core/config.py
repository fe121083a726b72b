"""How contracts are monitored: the ``data_contracts.monitoring`` section of a platform manifest.

Check intervals, severity thresholds and alert routing, as the design's data-model document
fixes them. A registered contract may override any of it (``monitoring_overrides``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from floe_core.events import ViolationSeverity


class CheckIntervalConfig(BaseModel):
    """How often the long-running monitor runs each check type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    freshness_minutes: int = 15
    schema_drift_minutes: int = 60
    quality_minutes: int = 360
    availability_minutes: int = 5


class SeverityThresholds(BaseModel):
    """Where early warnings start, and when repeated breaches become CRITICAL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    info_pct: float = 80.0  # % of SLA consumed
    warning_pct: float = 90.0  # % of SLA consumed
    critical_count: int = 3  # violations in the window
    critical_window_hours: int = 24


class AlertChannelRoutingRule(BaseModel):
    """Send events of at least ``min_severity`` for matching contracts to one channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_name: str
    min_severity: ViolationSeverity
    contract_filter: str | None = None  # glob pattern


class AlertConfig(BaseModel):
    """Alert routing, deduplication and rate limiting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routing_rules: list[AlertChannelRoutingRule] = []
    dedup_window_minutes: int = 30
    rate_limit_per_contract: int = 10
    rate_limit_window_minutes: int = 60


class MonitoringConfig(BaseModel):
    """The ``data_contracts.monitoring`` section of a platform manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    mode: str = "scheduled"  # scheduled | continuous | on_demand
    check_intervals: CheckIntervalConfig = CheckIntervalConfig()
    severity_thresholds: SeverityThresholds = SeverityThresholds()
    alerts: AlertConfig = AlertConfig()
    retention_days: int = 90
    clock_skew_tolerance_seconds: int = 60
    check_timeout_seconds: int = 30
