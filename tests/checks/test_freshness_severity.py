"""How much of the freshness SLA is used decides the severity; the clock is fixed in every test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from floe_core.config import MonitoringConfig, SeverityThresholds
from floe_core.contracts.loader import load_contract
from floe_core.errors import ContractError
from floe_core.events import CheckReport, CheckStatus, ViolationSeverity

NEWEST = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
SCHEMA = pa.schema(
    [pa.field("id", pa.int64()), pa.field("updated_at", pa.timestamp("us", tz="UTC"))]
)
SLA = timedelta(hours=10)
TOLERANCE = timedelta(seconds=60)  # MonitoringConfig.clock_skew_tolerance_seconds default
TINY = timedelta(microseconds=1)
INFO, WARNING, ERROR = ViolationSeverity.INFO, ViolationSeverity.WARNING, ViolationSeverity.ERROR


@pytest.fixture
def orders(lake: Any) -> Any:
    """sales.orders, newest row at NEWEST; an older row too."""
    return lake.table(
        "sales.orders", SCHEMA, {"id": [1, 2], "updated_at": [NEWEST - timedelta(days=2), NEWEST]}
    )


def contract(
    lake: Any, value: Any = 10, unit: str | None = "h", prop: str = "latency"
) -> dict[str, Any]:
    sla: dict[str, Any] = {"property": prop, "value": value, "element": "orders.updated_at"}
    if unit is not None:
        sla["unit"] = unit
    return lake.contract(lake.obj("orders", "sales.orders"), sla=[sla])


def check_at(
    lake: Any, age: timedelta, config: MonitoringConfig | None = None, **sla: Any
) -> CheckReport:
    return lake.run(contract(lake, **sla), now=NEWEST + age, config=config, types=["freshness"])


@pytest.mark.parametrize(
    ("age", "severity", "status"),
    [
        pytest.param(timedelta(hours=1), None, CheckStatus.PASS, id="10%"),
        pytest.param(timedelta(hours=8) - TINY, None, CheckStatus.PASS, id="just-below-80%"),
        pytest.param(timedelta(hours=8), INFO, CheckStatus.PASS, id="80%"),
        pytest.param(timedelta(hours=9) - TINY, INFO, CheckStatus.PASS, id="just-below-90%"),
        pytest.param(timedelta(hours=9), WARNING, CheckStatus.PASS, id="90%"),
        pytest.param(SLA, WARNING, CheckStatus.PASS, id="100%"),
        pytest.param(SLA + TOLERANCE, WARNING, CheckStatus.PASS, id="sla+tolerance"),
        pytest.param(SLA + TOLERANCE + TINY, ERROR, CheckStatus.FAIL, id="just-beyond"),
        pytest.param(timedelta(days=3), ERROR, CheckStatus.FAIL, id="long-stale"),
    ],
)
def test_severity_bands(
    lake: Any,
    orders: Any,
    age: timedelta,
    severity: ViolationSeverity | None,
    status: CheckStatus,
) -> None:
    report = check_at(lake, age)

    [result] = report.results
    assert result.status is status
    assert [event.severity for event in report.violations] == ([severity] if severity else [])
    assert result.violation == (report.violations[0] if severity else None)
    [detail] = result.details["tables"]
    assert detail["age_seconds"] == round(age.total_seconds(), 3)
    assert detail["consumed_pct"] == round(100 * age / SLA, 2)
    assert detail["threshold_seconds"] == SLA.total_seconds()
    assert detail["tolerance_seconds"] == TOLERANCE.total_seconds()


def test_early_warning_event_says_how_much_is_used(lake: Any, orders: Any) -> None:
    [event] = check_at(lake, timedelta(hours=8, minutes=30)).violations

    assert event.severity is INFO
    assert event.element == "updated_at"
    assert event.expected_value == "age <= 10h"
    assert event.actual_value == "age 8h 30m"
    assert "85.0% of the" in event.message
    assert event.metadata["consumed_pct"] == "85.0"
    assert event.metadata["table"] == "sales.orders"
    assert event.metadata["method"] == "metadata"
    assert event.timestamp == NEWEST + timedelta(hours=8, minutes=30)
    assert event.contract_name == "orders"
    assert event.contract_version == "1.2.0"


def test_breach_event_names_the_table_and_the_sla(lake: Any, orders: Any) -> None:
    [event] = check_at(lake, timedelta(hours=12)).violations

    assert event.severity is ERROR
    assert event.message == (
        "sales.orders.updated_at is stale: newest data is 12h old, beyond the 10h freshness SLA"
    )
    assert event.expected_value == "age <= 10h"
    assert event.actual_value == "age 12h"


@pytest.mark.parametrize(
    ("tolerance", "age", "severity"),
    [
        (0, SLA, WARNING),
        (0, SLA + TINY, ERROR),
        (300, SLA + timedelta(seconds=300), WARNING),
        (300, SLA + timedelta(seconds=300) + TINY, ERROR),
    ],
)
def test_clock_skew_tolerance_is_configurable(
    lake: Any, orders: Any, tolerance: int, age: timedelta, severity: ViolationSeverity
) -> None:
    config = MonitoringConfig(clock_skew_tolerance_seconds=tolerance)

    [event] = check_at(lake, age, config).violations

    assert event.severity is severity


@pytest.mark.parametrize(
    ("age", "severity"),
    [
        (timedelta(hours=5) - TINY, None),
        (timedelta(hours=5), INFO),
        (timedelta(hours=7, minutes=30), WARNING),
    ],
)
def test_severity_thresholds_are_configurable(
    lake: Any, orders: Any, age: timedelta, severity: ViolationSeverity | None
) -> None:
    config = MonitoringConfig(severity_thresholds=SeverityThresholds(info_pct=50, warning_pct=75))

    report = check_at(lake, age, config)

    assert [event.severity for event in report.violations] == ([severity] if severity else [])


@pytest.mark.parametrize(
    ("value", "unit", "seconds", "shown"),
    [
        (90, "s", 90, "1m 30s"),
        (45, "m", 45 * 60, "45m"),
        (45, "min", 45 * 60, "45m"),
        (6, "h", 6 * 3600, "6h"),
        ("1.5", "h", 5400, "1h 30m"),
        (2, "d", 2 * 86400, "2d"),
        ("PT6H", None, 6 * 3600, "6h"),
        ("P1DT2H", None, 26 * 3600, "1d 2h"),
        ("PT90M", None, 5400, "1h 30m"),
    ],
)
def test_sla_durations(
    lake: Any, orders: Any, value: Any, unit: str | None, seconds: int, shown: str
) -> None:
    # Stale enough to breach every duration here, so the event shows the parsed SLA.
    report = check_at(lake, timedelta(days=5), value=value, unit=unit)

    [result] = report.results
    assert result.details["tables"][0]["threshold_seconds"] == seconds
    assert result.violation is not None
    assert result.violation.expected_value == f"age <= {shown}"


@pytest.mark.parametrize("prop", ["latency", "freshness"])
def test_latency_and_freshness_are_both_freshness_slas(lake: Any, orders: Any, prop: str) -> None:
    report = check_at(lake, timedelta(hours=9, minutes=30), prop=prop)

    [result] = report.results
    assert result.status is CheckStatus.PASS
    assert [event.severity for event in report.violations] == [WARNING]


@pytest.mark.parametrize(
    ("value", "unit", "field"),
    [
        (6, "fortnights", "unit"),
        (1, "PT1H", "unit"),
        ("soon", "h", "value"),
        ("6 fortnights", None, "unit"),
        ("six", None, "value"),
        (0, "h", "value"),
    ],
)
def test_unreadable_sla_duration_is_rejected_at_load(
    lake: Any, write_contract: Any, value: Any, unit: str | None, field: str
) -> None:
    path: Path = write_contract(contract(lake, value=value, unit=unit))

    with pytest.raises(ContractError, match=rf"slaProperties\[0\]\.{field}"):
        load_contract(path)
