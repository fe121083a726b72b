"""QualityPlugin: how floe evaluates a contract's ODCS data quality rules against a table.

The models here are what crosses the plugin boundary: the check parses the contract into
``QualityRule``s (``floe_core.quality.rules``), hands a plugin one ``QualityRequest`` per
table and turns the ``RuleResult``s it gets back into events. A result carries a measured
number, never a row value.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from floe_core.events import ViolationSeverity
from floe_core.plugins.metadata import PluginMetadata

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from floe_core.iceberg import TableView

Scalar = str | int | float | bool | None
Method = Literal["metadata", "scan", "sql"]


class RuleType(str, Enum):
    """The ODCS kind of a quality rule."""

    LIBRARY = "library"
    SQL = "sql"
    TEXT = "text"
    CUSTOM = "custom"


class Metric(str, Enum):
    """The ODCS library metrics."""

    NULL_VALUES = "nullValues"
    MISSING_VALUES = "missingValues"
    INVALID_VALUES = "invalidValues"
    DUPLICATE_VALUES = "duplicateValues"
    ROW_COUNT = "rowCount"


class Operator(str, Enum):
    """The ODCS comparison operators; both bounds of the between forms are inclusive."""

    MUST_BE = "mustBe"
    MUST_NOT_BE = "mustNotBe"
    MUST_BE_GREATER_THAN = "mustBeGreaterThan"
    MUST_BE_GREATER_OR_EQUAL_TO = "mustBeGreaterOrEqualTo"
    MUST_BE_LESS_THAN = "mustBeLessThan"
    MUST_BE_LESS_OR_EQUAL_TO = "mustBeLessOrEqualTo"
    MUST_BE_BETWEEN = "mustBeBetween"
    MUST_NOT_BE_BETWEEN = "mustNotBeBetween"


class Condition(BaseModel):
    """One operator with its threshold (two numbers, low first, for the between forms)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operator: Operator
    values: tuple[float, ...]

    def holds(self, measured: float) -> bool:
        """Whether ``measured`` satisfies this condition."""
        return _COMPARE[self.operator](measured, self.values)

    def describe(self) -> str:
        """As written in the contract: ``mustBeLessThan 5``, ``mustBeBetween [1, 3]``."""
        numbers = [format_number(v) for v in self.values]
        shown = f"[{', '.join(numbers)}]" if len(numbers) > 1 else numbers[0]
        return f"{self.operator.value} {shown}"


_COMPARE: dict[Operator, Callable[[float, tuple[float, ...]], bool]] = {
    Operator.MUST_BE: lambda m, v: m == v[0],
    Operator.MUST_NOT_BE: lambda m, v: m != v[0],
    Operator.MUST_BE_GREATER_THAN: lambda m, v: m > v[0],
    Operator.MUST_BE_GREATER_OR_EQUAL_TO: lambda m, v: m >= v[0],
    Operator.MUST_BE_LESS_THAN: lambda m, v: m < v[0],
    Operator.MUST_BE_LESS_OR_EQUAL_TO: lambda m, v: m <= v[0],
    Operator.MUST_BE_BETWEEN: lambda m, v: v[0] <= m <= v[1],
    Operator.MUST_NOT_BE_BETWEEN: lambda m, v: not v[0] <= m <= v[1],
}


def format_number(value: float) -> str:
    """``5`` for 5.0, ``12.5`` for 12.5: numbers as a person writes them."""
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


class QualityRule(BaseModel):
    """One ODCS quality rule of a contract, typed; ``problem`` says why it cannot run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # the rule's id, else its name, else its metric (else its type)
    path: str  # where it is in the contract, such as schema[0].properties[1].quality[0]
    object_name: str
    element: str | None = None  # the column path it applies to; None at object level
    type: RuleType
    metric: Metric | None = None
    conditions: tuple[Condition, ...] = ()
    unit: str | None = None  # as written; library metrics measure rows unless "percent"
    missing_values: tuple[Scalar, ...] = ()
    valid_values: tuple[Scalar, ...] | None = None
    pattern: str | None = None
    properties: tuple[str, ...] = ()  # object-level duplicateValues: the key columns
    query: str | None = None
    severity: ViolationSeverity = ViolationSeverity.ERROR
    dimension: str | None = None
    problem: str | None = None  # set when the rule is malformed or cannot be evaluated

    @property
    def percent(self) -> bool:
        """Whether the rule measures a percentage of the table's rows."""
        return (self.unit or "").strip().lower() == "percent"

    def holds(self, measured: float) -> bool:
        """Whether ``measured`` satisfies every operator of the rule."""
        return all(condition.holds(measured) for condition in self.conditions)

    @property
    def expected(self) -> str:
        """The operators and threshold as written, such as ``mustBeLessOrEqualTo 5 percent``."""
        unit = f" {self.unit.strip()}" if self.unit and self.unit.strip() else ""
        return " and ".join(c.describe() for c in self.conditions) + unit


class RuleStatus(str, Enum):
    """What became of one rule."""

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


class RuleResult(BaseModel):
    """The outcome of one rule: a measured number (never a row value) and how it was found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: QualityRule
    status: RuleStatus
    measured: float | None = None
    method: Method | None = None
    reason: str | None = None  # short code for skipped and error, such as equality_deletes
    message: str | None = None  # a sentence saying why, for skipped and error

    @classmethod
    def judged(cls, rule: QualityRule, measured: float, method: Method) -> RuleResult:
        """``pass`` or ``fail``, as ``measured`` satisfies the rule or not."""
        status = RuleStatus.PASS if rule.holds(measured) else RuleStatus.FAIL
        return cls(rule=rule, status=status, measured=measured, method=method)

    @classmethod
    def not_evaluated(
        cls, rule: QualityRule, reason: str, message: str, *, skipped: bool = False
    ) -> RuleResult:
        """``error`` (or ``skipped``): no number, because of ``reason``."""
        status = RuleStatus.SKIPPED if skipped else RuleStatus.ERROR
        return cls(rule=rule, status=status, reason=reason, message=message)


class QualityRequest(BaseModel):
    """The rules to evaluate against one table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifier: str  # namespace.table
    rules: tuple[QualityRule, ...]
    # Seconds the check has left; a plugin should stop its scans (and say "timeout") by then.
    timeout_seconds: float | None = None


class QualityResult(BaseModel):
    """One ``RuleResult`` per requested rule, in order, and how the table was read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifier: str
    results: tuple[RuleResult, ...]
    scans: int = 0  # passes over the table's data (sql rules not included)
    source: str | None = None  # what the scan read: "parquet", "pyiceberg" or "empty"
    source_reason: str | None = None  # why the scan could not read Parquet files directly
    fallback_reason: str | None = None  # why metadata could not answer every rule it might


class QualityPlugin(PluginMetadata):
    """Evaluates ODCS quality rules against Iceberg tables and scores the results."""

    #: Whether ``run_checks`` takes floe's ``TableView`` as well as a pyiceberg ``Table``
    #: (floe's own plugin does); a plugin that does not is given the pyiceberg table.
    reads_table_views: ClassVar[bool] = False

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})

    @abstractmethod
    def run_checks(self, table: Table | TableView, request: QualityRequest) -> QualityResult:
        """Evaluate ``request.rules`` against ``table``; one result per rule, in order.

        ``table`` is a pyiceberg ``Table``, or floe's ``TableView`` when the plugin says it
        reads them (``reads_table_views``)."""

    @abstractmethod
    def calculate_quality_score(self, results: Sequence[RuleResult]) -> float | None:
        """A 0-100 score over the evaluated (passed or failed) rules; None if there are none."""
