"""The monitoring data model, as fixed in the design's data-model document.

``ContractViolationEvent`` is the one interface between the monitor and alert channels.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from floe_core.contracts.model import DataContract


class ViolationType(str, Enum):
    """What kind of promise a contract broke; also the name of the check that looks for it."""

    FRESHNESS = "freshness"
    SCHEMA_DRIFT = "schema_drift"
    QUALITY = "quality"
    AVAILABILITY = "availability"
    DEPRECATION = "deprecation"


class ViolationSeverity(str, Enum):
    """How bad a violation is; INFO and WARNING are early warnings before a breach."""

    INFO = "info"  # 80% of SLA consumed
    WARNING = "warning"  # 90% of SLA consumed
    ERROR = "error"  # SLA breached
    CRITICAL = "critical"  # more than critical_count violations of one type in the window

    @property
    def rank(self) -> int:
        """Order of the levels, INFO lowest."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    ViolationSeverity.INFO: 0,
    ViolationSeverity.WARNING: 1,
    ViolationSeverity.ERROR: 2,
    ViolationSeverity.CRITICAL: 3,
}


class ContractViolationEvent(BaseModel):
    """One broken (or nearly broken) promise of a contract. Never carries row values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract_name: str
    contract_version: str
    violation_type: ViolationType
    severity: ViolationSeverity
    message: str
    element: str | None = None
    expected_value: str | None = None
    actual_value: str | None = None
    timestamp: datetime
    affected_consumers: list[str] = []
    check_duration_seconds: float
    metadata: dict[str, str] = {}


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


class RegisteredContract(BaseModel):
    """A contract the monitor watches, with how to reach its tables."""

    model_config = ConfigDict(extra="forbid")

    contract_name: str
    contract_version: str
    contract: DataContract
    connection_config: dict[str, Any]
    monitoring_overrides: MonitoringConfig | None = None
    registered_at: datetime
    last_check_times: dict[str, datetime] = {}  # check_type -> last_run
    active: bool = True


class CheckStatus(str, Enum):
    """Outcome of one check run."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class CheckResult(BaseModel):
    """One run of one check type against one contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str  # UUID
    contract_name: str
    check_type: ViolationType
    status: CheckStatus
    duration_seconds: float
    timestamp: datetime
    details: dict[str, Any] = {}
    violation: ContractViolationEvent | None = None


class SLAStatus(BaseModel):
    """Rolling compliance of one contract for one check type."""

    model_config = ConfigDict(extra="forbid")

    contract_name: str
    check_type: ViolationType
    current_value: float  # current metric value
    threshold: float  # SLA threshold
    compliance_pct: float  # rolling 24h compliance
    last_check_time: datetime | None = None
    consecutive_failures: int = 0
    violation_count_24h: int = 0
    window_start: datetime  # rolling window start


class CheckReport(BaseModel):
    """Everything one ``ContractMonitor.run`` produced: the results and every event emitted.

    A ``CheckResult`` carries only its most severe event; ``violations`` holds them all, early
    warnings included. This is the document ``floe sla check --format json`` prints.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract_name: str
    contract_version: str
    results: list[CheckResult] = Field(default_factory=list)
    violations: list[ContractViolationEvent] = Field(default_factory=list)
