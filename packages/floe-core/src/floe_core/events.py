"""What a check produces: violation events, check results, SLA status and a run's report.

These are the data model's shapes (the design's data-model document), the vocabulary every
layer speaks: checks produce them, the state store persists them, reports and alert channels
read them. ``ContractViolationEvent`` is the one interface between the monitor and alert
channels.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class ResolvedNotice(BaseModel):
    """An alerted (contract, violation type) whose latest run found nothing: it is over."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract_name: str
    contract_version: str
    violation_type: ViolationType
    elements: list[str] = []  # the elements that were alerted, when the events named any
    alerted_at: datetime  # when the last alert went out
    resolved_at: datetime  # when the run that found nothing ran
    message: str


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
