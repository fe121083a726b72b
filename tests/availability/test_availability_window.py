"""Uptime over a rolling 24 h of probe outcomes, on the monitor's clock: what drops out, the
failures in a row and their reset, and the error-budget severity bands at their edges.

The error budget of a target T is 1 - T; consumed = (1 - uptime) / (1 - T). INFO from 80%
consumed, WARNING from 90%, ERROR (the check fails) once uptime is below T, that is beyond
100%. Exactly 100% consumed is uptime == T: the SLA is met, with a WARNING.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from floe_core.events import CheckResult, CheckStatus, ViolationType
from floe_core.monitoring.checks.availability import AvailabilityCheck

LOGGER = "floe_core.monitoring.checks.availability"


def window(result: CheckResult) -> tuple[int, int, float]:
    """(probes, failures, uptime %) of a result."""
    d = result.details
    return d["probes_in_window"], d["failures_in_window"], d["uptime_pct"]


def test_outcomes_older_than_24_hours_drop_out(lake: Any) -> None:
    monitor = lake.monitor(lake.contract([lake.availability(99.9, "percent")]))
    lake.down()
    first = lake.probe(monitor, every=timedelta(0))
    assert window(first) == (1, 1, 0.0)

    lake.up()
    assert window(lake.probe(monitor, every=timedelta(hours=12))) == (2, 1, 50.0)
    # Exactly 24 hours old is still in the window ...
    at_24h = lake.probe(monitor, every=timedelta(hours=12))
    assert window(at_24h) == (3, 1, pytest.approx(66.6667))
    assert at_24h.status is CheckStatus.FAIL
    # ... one second more and the failure is gone.
    after = lake.probe(monitor, every=timedelta(seconds=1))
    assert window(after) == (3, 0, 100.0)
    assert after.status is CheckStatus.PASS
    assert after.violation is None


def test_failures_in_a_row_and_the_logged_recovery(
    lake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    monitor = lake.monitor(lake.contract([lake.availability("99%")]))
    lake.probe(monitor, times=3)
    lake.down()

    counts = []
    for _ in range(3):
        failed = lake.probe(monitor, every=timedelta(minutes=10))
        counts.append(failed.details["consecutive_failures"])
        assert failed.violation is not None
        assert failed.violation.metadata["consecutive_failures"] == str(counts[-1])
    assert counts == [1, 2, 3]
    went_down = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(went_down) == 1  # logged when the run of failures starts, not on each one
    assert getattr(went_down[0], "floe.availability.reason") == "table_not_found"

    lake.up()
    recovered = lake.probe(monitor, every=timedelta(minutes=10))

    assert recovered.details["consecutive_failures"] == 0
    [record] = [r for r in caplog.records if "available again" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith(
        "contract orders is available again after 3 failed probe(s) since "
    )
    assert getattr(record, "floe.contract.name") == "orders"
    assert getattr(record, "floe.check.type") == "availability"
    assert getattr(record, "floe.availability.recovered_after") == 3
    assert getattr(record, "floe.availability.consecutive_failures") == 0
    # Down from the first failed probe to this one: three probes ten minutes apart.
    assert getattr(record, "floe.availability.downtime_seconds") == 30 * 60

    lake.down()
    assert lake.probe(monitor).details["consecutive_failures"] == 1  # a new run of failures


def probe_mix(lake: Any, target: Any, passes: int, failures: int) -> CheckResult:
    """A fresh monitor probed ``passes`` times with the table, then ``failures`` without."""
    monitor = lake.monitor(lake.contract([lake.availability(target, "percent")]))
    lake.up()
    result = lake.probe(monitor, times=passes) if passes else None
    if failures:
        lake.down()
        result = lake.probe(monitor, times=failures)
    assert result is not None
    return result


# Target 60%: the budget is 40% of probes; with 25 probes each failure uses 10% of it.
@pytest.mark.parametrize(
    ("failures", "consumed", "severity", "status"),
    [
        (7, 70.0, None, CheckStatus.PASS),
        (8, 80.0, "info", CheckStatus.PASS),
        (9, 90.0, "warning", CheckStatus.PASS),
        (10, 100.0, "warning", CheckStatus.PASS),  # uptime 60% == target: met, budget spent
        (11, 110.0, "error", CheckStatus.FAIL),
    ],
)
def test_severity_bands_of_the_error_budget(
    lake: Any, failures: int, consumed: float, severity: str | None, status: CheckStatus
) -> None:
    result = probe_mix(lake, 60, 25 - failures, failures)

    assert result.details["budget_consumed_pct"] == consumed
    assert result.details["probes_in_window"] == 25
    assert result.status is status
    if severity is None:
        assert result.violation is None
    else:
        assert result.violation is not None
        assert result.violation.severity.value == severity
        assert result.violation.metadata["budget_consumed_pct"] == f"{consumed:.2f}"


def test_one_failure_in_a_hundred_spends_a_99_percent_budget_exactly(lake: Any) -> None:
    monitor = lake.monitor(lake.contract([lake.availability("99%")]))
    lake.probe(monitor, times=99)
    lake.down()

    met = lake.probe(monitor)

    assert window(met) == (100, 1, 99.0)
    assert met.details["budget_consumed_pct"] == 100.0
    assert met.status is CheckStatus.PASS  # 99% uptime meets a 99% target ...
    assert met.violation is not None
    assert met.violation.severity.value == "warning"  # ... with the whole budget spent
    assert met.violation.message.startswith(
        "orders has used 100.0% of the error budget of the 99% availability SLA: uptime 99.0% over "
        "the last 24h (1 of 100 probes failed); the latest probe failed: Table 'sales.orders'"
    )

    lake.up()
    breached = lake.probe(monitor, every=timedelta(0))
    assert window(breached) == (101, 1, pytest.approx(99.0099))
    assert breached.status is CheckStatus.PASS  # a success adds to the budget
    lake.down()
    breached = lake.probe(monitor, every=timedelta(0))
    assert window(breached)[:2] == (102, 2)
    assert breached.status is CheckStatus.FAIL
    assert breached.violation is not None
    assert breached.violation.severity.value == "error"
    assert breached.details["budget_consumed_pct"] == pytest.approx(196.0784, abs=1e-4)


def test_a_recovered_contract_still_below_target_fails(lake: Any) -> None:
    monitor = lake.monitor(lake.contract([lake.availability(90, "%")]))
    lake.down()
    assert lake.probe(monitor).status is CheckStatus.FAIL
    lake.up()

    below = lake.probe(monitor, times=8)  # 8 of 9: 88.9%

    assert below.status is CheckStatus.FAIL
    assert below.details["consecutive_failures"] == 0
    assert below.violation is not None
    assert below.violation.element is None
    assert below.violation.message == (
        "orders is below the 90% availability SLA: uptime 88.9% over the last 24h (1 of 9 "
        "probes failed); the latest probe succeeded"
    )
    met = lake.probe(monitor)  # 9 of 10: 90%, the budget spent
    assert met.status is CheckStatus.PASS
    assert met.violation is not None
    assert met.violation.severity.value == "warning"


def test_a_100_percent_target_has_no_budget(lake: Any) -> None:
    healthy = probe_mix(lake, 100, 3, 0)
    assert healthy.status is CheckStatus.PASS
    assert healthy.details["budget_consumed_pct"] is None
    assert healthy.violation is None

    breached = probe_mix(lake, 100, 3, 1)
    assert breached.status is CheckStatus.FAIL
    assert breached.violation is not None
    assert breached.violation.severity.value == "error"
    assert breached.violation.metadata["budget_consumed_pct"] == "inf"


def test_each_contract_has_its_own_window(lake: Any) -> None:
    lake.up("sales.customers")
    orders = lake.contract([lake.availability(99, "%")])
    customers = lake.contract(
        [lake.availability(99, "%")], name="customers", tables=["sales.customers"]
    )
    monitor = lake.monitor(orders, customers)
    lake.down("sales.customers")

    assert lake.probe(monitor, "orders", times=2).status is CheckStatus.PASS
    assert lake.probe(monitor, "customers").status is CheckStatus.FAIL
    assert window(lake.probe(monitor, "orders")) == (3, 0, 100.0)


def test_memory_is_bounded(lake: Any) -> None:
    check = AvailabilityCheck(max_outcomes=5)
    checks = {ViolationType.AVAILABILITY: check}
    customers = lake.contract(name="customers")
    monitor = lake.monitor(lake.contract(), customers, checks=checks)

    lake.down()
    lake.probe(monitor, times=2)
    lake.up()
    # At most max_outcomes outcomes are kept: the two failures are pushed out by five passes.
    assert window(lake.probe(monitor, times=4)) == (5, 1, 80.0)
    assert window(lake.probe(monitor)) == (5, 0, 100.0)

    lake.probe(monitor, "customers")
    assert check.tracked == ["customers", "orders"]
    # A contract not probed for more than 24 hours is forgotten entirely.
    lake.probe(monitor, "customers", every=timedelta(hours=24, seconds=1))
    assert check.tracked == ["customers"]

    with pytest.raises(ValueError, match="max_outcomes"):
        AvailabilityCheck(max_outcomes=0)
