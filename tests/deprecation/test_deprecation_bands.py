"""The deprecation check's bands, at their edges, on a fixed clock.

INFO within 30 days before end of support, WARNING once it has passed or when the status is
deprecated, ERROR once end of life has passed or when the status is retired. One finding per
run, at the worst severity that applies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from floe_core.events import CheckReport, CheckStatus, ViolationSeverity

SUPPORT_ENDS = datetime(2026, 7, 1, tzinfo=UTC)  # endOfSupport: 2026-07-01 means 00:00 UTC
LIFE_ENDS = datetime(2026, 12, 31, tzinfo=UTC)  # endOfLife: 2026-12-31
TINY = timedelta(microseconds=1)
DAY = timedelta(days=1)
INFO, WARNING, ERROR = ViolationSeverity.INFO, ViolationSeverity.WARNING, ViolationSeverity.ERROR


def only_result(report: CheckReport) -> Any:
    [result] = report.results
    assert result.check_type.value == "deprecation"
    return result


def severity_of(report: CheckReport) -> ViolationSeverity | None:
    assert len(report.violations) <= 1, "the check reports at most one finding per run"
    return report.violations[0].severity if report.violations else None


@pytest.mark.parametrize(
    ("now", "severity", "status", "days_left"),
    [
        pytest.param(SUPPORT_ENDS - 31 * DAY, None, CheckStatus.PASS, 31, id="31-days-before"),
        pytest.param(SUPPORT_ENDS - 30 * DAY - TINY, None, CheckStatus.PASS, 31, id="just-out"),
        pytest.param(SUPPORT_ENDS - 30 * DAY, INFO, CheckStatus.PASS, 30, id="30-days-before"),
        pytest.param(SUPPORT_ENDS - TINY, INFO, CheckStatus.PASS, 1, id="last-moment"),
        pytest.param(SUPPORT_ENDS, WARNING, CheckStatus.PASS, 0, id="end-of-support-day"),
        pytest.param(SUPPORT_ENDS + DAY, WARNING, CheckStatus.PASS, -1, id="the-day-after"),
        pytest.param(LIFE_ENDS - TINY, WARNING, CheckStatus.PASS, -182, id="before-end-of-life"),
        pytest.param(LIFE_ENDS, ERROR, CheckStatus.FAIL, -183, id="end-of-life"),
        pytest.param(LIFE_ENDS + 400 * DAY, ERROR, CheckStatus.FAIL, -583, id="long-after"),
    ],
)
def test_bands_by_date(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    now: datetime,
    severity: ViolationSeverity | None,
    status: CheckStatus,
    days_left: int,
) -> None:
    contract = lifecycle_contract(end_of_support="2026-07-01", end_of_life="2026-12-31")

    report = run_checks(contract, now)

    assert severity_of(report) is severity
    result = only_result(report)
    assert result.status is status
    assert result.details["days_until_end_of_support"] == days_left
    assert result.details["end_of_support"] == "2026-07-01"
    assert result.details["end_of_life"] == "2026-12-31"
    assert result.details["status"] == "active"
    assert result.details["replaced_by"] is None
    assert result.violation == (report.violations[0] if report.violations else None)


def test_info_says_when_support_ends(
    run_checks: Callable[..., CheckReport], lifecycle_contract: Callable[..., dict[str, Any]]
) -> None:
    contract = lifecycle_contract(end_of_support="2026-07-01", end_of_life="2026-12-31")

    [event] = run_checks(contract, SUPPORT_ENDS - 12 * DAY + timedelta(hours=5)).violations

    assert event.severity is INFO
    assert event.violation_type.value == "deprecation"
    assert event.element is None
    assert event.message == (
        "Contract orders 1.2.0 reaches end of support on 2026-07-01 (in 12 days) and reaches "
        "end of life on 2026-12-31 (in 195 days)"
    )
    assert event.metadata == {
        "reasons": "end_of_support_near",
        "status": "active",
        "end_of_support": "2026-07-01",
        "end_of_life": "2026-12-31",
    }


@pytest.mark.parametrize(
    ("status", "severity", "check_status"),
    [
        ("deprecated", WARNING, CheckStatus.PASS),
        ("Deprecated", WARNING, CheckStatus.PASS),
        ("retired", ERROR, CheckStatus.FAIL),
        (" RETIRED ", ERROR, CheckStatus.FAIL),
    ],
)
def test_status_alone(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    status: str,
    severity: ViolationSeverity,
    check_status: CheckStatus,
) -> None:
    report = run_checks(lifecycle_contract(status=status), SUPPORT_ENDS)

    [event] = report.violations
    assert event.severity is severity
    word = status.strip().lower()
    assert event.message == f"Contract orders 1.2.0 is {word}"
    assert event.metadata == {"reasons": word, "status": word}
    result = only_result(report)
    assert result.status is check_status
    assert result.details == {
        "status": word,
        "end_of_support": None,
        "end_of_life": None,
        "days_until_end_of_support": None,
        "days_until_end_of_life": None,
        "replaced_by": None,
    }


@pytest.mark.parametrize(
    ("status", "now", "severity", "reasons"),
    [
        pytest.param(
            "retired",
            SUPPORT_ENDS - 10 * DAY,
            ERROR,
            "retired,end_of_support_near",
            id="retired-beats-info",
        ),
        pytest.param(
            "deprecated",
            SUPPORT_ENDS - 10 * DAY,
            WARNING,
            "deprecated,end_of_support_near",
            id="deprecated-beats-info",
        ),
        pytest.param(
            "deprecated",
            SUPPORT_ENDS + DAY,
            WARNING,
            "deprecated,end_of_support_passed",
            id="deprecated-and-support-ended",
        ),
        pytest.param(
            "deprecated",
            LIFE_ENDS,
            ERROR,
            "end_of_life_passed,deprecated,end_of_support_passed",
            id="end-of-life-beats-deprecated",
        ),
        pytest.param(
            "retired",
            LIFE_ENDS,
            ERROR,
            "retired,end_of_life_passed,end_of_support_passed",
            id="all-at-once",
        ),
        pytest.param(
            "draft", SUPPORT_ENDS - 10 * DAY, INFO, "end_of_support_near", id="draft-is-no-status"
        ),
    ],
)
def test_the_worst_wins_in_one_finding(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    status: str,
    now: datetime,
    severity: ViolationSeverity,
    reasons: str,
) -> None:
    contract = lifecycle_contract(
        status=status, end_of_support="2026-07-01", end_of_life="2026-12-31"
    )

    [event] = run_checks(contract, now).violations

    assert event.severity is severity
    assert event.metadata["reasons"] == reasons
    # The message states the status and both dates, whichever band won.
    assert "2026-07-01" in event.message
    assert "2026-12-31" in event.message
    if status in ("retired", "deprecated"):
        assert event.message.startswith(f"Contract orders 1.2.0 is {status}, ")


def test_message_names_the_migration_target(
    run_checks: Callable[..., CheckReport], lifecycle_contract: Callable[..., dict[str, Any]]
) -> None:
    contract = lifecycle_contract(
        status="deprecated",
        end_of_support="2026-07-01",
        end_of_life="2026-12-31",
        replaced_by="orders-v2",
    )

    report = run_checks(contract, SUPPORT_ENDS + 3 * DAY)

    [event] = report.violations
    assert event.message == (
        "Contract orders 1.2.0 is deprecated, reached end of support on 2026-07-01 "
        "(3 days ago) and reaches end of life on 2026-12-31 (in 180 days); migrate to orders-v2"
    )
    assert event.metadata["replaced_by"] == "orders-v2"
    assert only_result(report).details["replaced_by"] == "orders-v2"


def test_no_migration_target_no_migration_advice(
    run_checks: Callable[..., CheckReport], lifecycle_contract: Callable[..., dict[str, Any]]
) -> None:
    [event] = run_checks(lifecycle_contract(status="retired"), SUPPORT_ENDS).violations
    assert "migrate" not in event.message
    assert "replaced_by" not in event.metadata


def test_end_of_support_day_itself_says_today(
    run_checks: Callable[..., CheckReport], lifecycle_contract: Callable[..., dict[str, Any]]
) -> None:
    contract = lifecycle_contract(end_of_support="2026-07-01")

    [event] = run_checks(contract, SUPPORT_ENDS + timedelta(hours=15)).violations

    assert event.severity is WARNING
    assert event.message == "Contract orders 1.2.0 reached end of support on 2026-07-01 (today)"


@pytest.mark.parametrize(
    ("now", "severity"),
    [
        pytest.param(LIFE_ENDS - 30 * DAY - TINY, None, id="before-notice"),
        pytest.param(LIFE_ENDS - 30 * DAY, INFO, id="30-days-before"),
        pytest.param(LIFE_ENDS - TINY, INFO, id="last-moment"),
        pytest.param(LIFE_ENDS, ERROR, id="end-of-life"),
    ],
)
def test_end_of_life_alone_gives_notice_before_it(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    now: datetime,
    severity: ViolationSeverity | None,
) -> None:
    """Without endOfSupport, support ends at the end of life; the INFO notice comes before it."""
    report = run_checks(lifecycle_contract(end_of_life="2026-12-31"), now)

    assert severity_of(report) is severity
    if severity is INFO:
        assert report.violations[0].metadata["reasons"] == "end_of_life_near"


@pytest.mark.parametrize(
    ("now", "severity"),
    [
        pytest.param(datetime(2026, 6, 1, 17, 30, tzinfo=UTC) - TINY, None, id="before-notice"),
        pytest.param(datetime(2026, 6, 1, 17, 30, tzinfo=UTC), INFO, id="30-days-before"),
        pytest.param(datetime(2026, 7, 1, 17, 30, tzinfo=UTC) - TINY, INFO, id="last-moment"),
        pytest.param(datetime(2026, 7, 1, 17, 30, tzinfo=UTC), WARNING, id="ended"),
    ],
)
def test_datetimes_with_an_offset_are_instants(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    now: datetime,
    severity: ViolationSeverity | None,
) -> None:
    contract = lifecycle_contract(end_of_support="2026-07-01T09:30:00-08:00")

    report = run_checks(contract, now)

    assert severity_of(report) is severity
    assert only_result(report).details["end_of_support"] == "2026-07-01T17:30:00Z"


def test_unquoted_yaml_dates_and_synonyms(run_checks: Callable[..., CheckReport]) -> None:
    """As the ODCS docs write them: YAML reads these as date/datetime, not strings."""
    text = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-v1
name: orders
version: 1.2.0
status: active
slaProperties:
  - property: generalAvailability
    value: 2022-05-12T09:30:10-08:00
  - property: ES
    value: 2026-07-01
  - property: el
    value: 2026-12-31 18:00:00
"""
    report = run_checks(text, SUPPORT_ENDS + DAY)

    [event] = report.violations
    assert event.severity is WARNING
    details = only_result(report).details
    assert details["end_of_support"] == "2026-07-01"
    assert details["end_of_life"] == "2026-12-31T18:00:00Z"  # no offset: UTC
    assert details["days_until_end_of_life"] == 183


@pytest.mark.parametrize("status", ["active", "draft", "proposed", None])
def test_skipped_without_a_lifecycle(
    run_checks: Callable[..., CheckReport],
    lifecycle_contract: Callable[..., dict[str, Any]],
    status: str | None,
) -> None:
    contract = lifecycle_contract(
        sla=[{"property": "generalAvailability", "value": "Available 24/7"}]
    )
    if status is None:
        del contract["status"]
    else:
        contract["status"] = status

    report = run_checks(contract, SUPPORT_ENDS)

    assert report.violations == []
    result = only_result(report)
    assert result.status is CheckStatus.SKIPPED
    assert "neither deprecated nor retired" in result.details["reason"]
    assert "endOfSupport" in result.details["reason"]


def test_far_future_dates_pass_quietly(
    run_checks: Callable[..., CheckReport], lifecycle_contract: Callable[..., dict[str, Any]]
) -> None:
    contract = lifecycle_contract(
        end_of_support="2032-05-12T09:30:10-08:00", end_of_life="2042-05-12T09:30:10-08:00"
    )

    report = run_checks(contract, SUPPORT_ENDS)

    assert report.violations == []
    result = only_result(report)
    assert result.status is CheckStatus.PASS
    assert result.details["days_until_end_of_life"] > result.details["days_until_end_of_support"]
