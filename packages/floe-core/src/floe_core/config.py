"""How contracts are monitored: the ``data_contracts.monitoring`` section of a platform manifest.

Check intervals, severity thresholds and alert routing, as the design's data-model document
fixes them. A registered contract may override any of it (``monitoring_overrides``).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from floe_core.events import ViolationSeverity

#: How the long-running monitor runs checks: on each check type's interval, back to back,
#: or only when asked (``floe sla check``).
MonitoringMode = Literal["scheduled", "continuous", "on_demand"]


class CheckIntervalConfig(BaseModel):
    """How often the long-running monitor runs each check type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Fractions are fine: freshness_minutes: 0.05 runs it every 3 s.
    freshness_minutes: float = Field(15, gt=0)
    schema_drift_minutes: float = Field(60, gt=0)
    quality_minutes: float = Field(360, gt=0)
    availability_minutes: float = Field(5, gt=0)

    def seconds(self, check_type: str) -> float | None:
        """The interval of ``check_type`` in seconds; None for a type without one."""
        minutes = getattr(self, f"{check_type}_minutes", None)
        return float(minutes) * 60 if minutes is not None else None


class SeverityThresholds(BaseModel):
    """Where early warnings start, and when repeated breaches become CRITICAL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    info_pct: float = Field(80.0, gt=0, le=100)  # % of SLA consumed
    warning_pct: float = Field(90.0, gt=0, le=100)  # % of SLA consumed
    critical_count: int = Field(3, ge=0)  # violations in the window
    critical_window_hours: int = Field(24, gt=0)

    @model_validator(mode="after")
    def _info_before_warning(self) -> Self:
        if self.info_pct > self.warning_pct:
            raise ValueError(
                f"info_pct ({self.info_pct:g}) is above warning_pct ({self.warning_pct:g}); "
                "INFO must start at or before WARNING"
            )
        return self


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
    dedup_window_minutes: int = Field(30, ge=0)
    rate_limit_per_contract: int = Field(10, gt=0)
    rate_limit_window_minutes: int = Field(60, gt=0)


class MonitoringConfig(BaseModel):
    """The ``data_contracts.monitoring`` section of a platform manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    mode: MonitoringMode = "scheduled"
    check_intervals: CheckIntervalConfig = CheckIntervalConfig()
    severity_thresholds: SeverityThresholds = SeverityThresholds()
    alerts: AlertConfig = AlertConfig()
    retention_days: int = Field(90, gt=0)
    clock_skew_tolerance_seconds: int = Field(60, ge=0)
    check_timeout_seconds: int = Field(30, gt=0)

    def merged_with(self, overrides: MonitoringConfig | None) -> MonitoringConfig:
        """This config with what ``overrides`` sets laid over it, field by field.

        A registered contract's ``monitoring_overrides`` that sets only
        ``check_intervals.freshness_minutes`` keeps every other setting of the manifest.
        """
        if overrides is None:
            return self
        merged = _deep_merge(self.model_dump(), overrides.model_dump(exclude_unset=True))
        return MonitoringConfig.model_validate(merged)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
