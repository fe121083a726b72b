"""SLA status from a synthetic history whose numbers are worked out by hand, on both backends."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from floe_core.config import SeverityThresholds
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.monitoring.escalation import escalate
from floe_core.monitoring.history import TypeHistory, load_history
from floe_core.monitoring.sla_status import sla_status, sla_statuses
from tests._factories import T0, registered
from tests._factories import sla_status as status_row

FRESHNESS = ViolationType.FRESHNESS
QUALITY = ViolationType.QUALITY
AVAILABILITY = ViolationType.AVAILABILITY
DRIFT = ViolationType.SCHEMA_DRIFT
DEPRECATION = ViolationType.DEPRECATION
REGISTERED = registered()


def run(
    hours_ago: float,
    check_type: ViolationType,
    status: str,
    details: dict[str, Any] | None = None,
    breach: bool | None = None,
) -> tuple[CheckResult, list[ContractViolationEvent]]:
    """A result ``hours_ago`` before T0; a ``fail`` carries an ERROR event unless told not to."""
    at = T0 - timedelta(hours=hours_ago)
    events = []
    if breach if breach is not None else status == "fail":
        events.append(
            ContractViolationEvent(
                contract_name="orders",
                contract_version="1.0.0",
                violation_type=check_type,
                severity=ViolationSeverity.ERROR,
                message="breached",
                timestamp=at,
                check_duration_seconds=0.01,
            )
        )
    result = CheckResult(
        id=str(uuid.uuid4()),
        contract_name="orders",
        check_type=check_type,
        status=CheckStatus(status),
        duration_seconds=0.01,
        timestamp=at,
        details=details or {},
        violation=events[0] if events else None,
    )
    return result, events


def probe(ok: bool) -> dict[str, Any]:
    return {"probe": {"ok": ok}, "uptime_pct": 100.0 if ok else 0.0, "target_pct": 99.0}


HISTORY = [
    # freshness: -30 h is outside the window; error and skipped runs measure nothing
    run(30, FRESHNESS, "fail"),
    run(20, FRESHNESS, "fail"),
    run(16, FRESHNESS, "pass"),
    run(12, FRESHNESS, "fail"),
    run(8, FRESHNESS, "error"),
    run(4, FRESHNESS, "fail"),
    run(2, FRESHNESS, "skipped"),
    # quality
    run(10, QUALITY, "pass", {"quality_score": 100.0}),
    run(5, QUALITY, "fail", {"quality_score": 40.0}),
    # availability: probes at -25 h (outside), -23 h, -22 h, -1 h; -3 h could not probe
    run(25, AVAILABILITY, "fail", probe(False)),
    run(23, AVAILABILITY, "pass", probe(True)),
    run(22, AVAILABILITY, "fail", probe(False)),
    run(3, AVAILABILITY, "error", {"reason": "table_unresolved"}),
    run(1, AVAILABILITY, "pass", probe(True)),
]

THIS_RUN = [
    run(
        0,
        FRESHNESS,
        "fail",
        {
            "tables": [
                {"table": "a", "age_seconds": 7200.0, "threshold_seconds": 3600.0},
                {"table": "b", "age_seconds": 9000.0, "threshold_seconds": 14400.0},
            ]
        },
    ),
    run(0, QUALITY, "pass", {"quality_score": 62.5}),
    run(0, AVAILABILITY, "pass", probe(True)),
    run(0, DRIFT, "fail", {"changes": 3}),
    run(0, DEPRECATION, "pass", {"days_until_end_of_life": 45}, breach=False),
]


def expected(check_type: ViolationType, *numbers: float) -> SLAStatus:
    """The status of ``check_type``: value, threshold, compliance %, failures, breaches."""
    value, threshold, compliance, failures, breaches = numbers
    return status_row(
        check_type,
        value,
        threshold=threshold,
        compliance=compliance,
        failures=int(failures),
        breaches=int(breaches),
        at=T0,
    )


# Worked out by hand from HISTORY and THIS_RUN (value, threshold, compliance %, failures in a
# row, breaches in 24 h):
EXPECTED = {
    # in the window: fail -20, pass -16, fail -12, fail -4, and this fail: 1 of 5 passed;
    # fails since the pass at -16 h: -12, -4 and this one; breaches: -20, -12, -4, this one.
    # The stalest table is b (9000 s old) and its SLA is 4 h.
    FRESHNESS: expected(FRESHNESS, 9000.0, 14400.0, 20.0, 3, 4),
    # pass -10, fail -5, this pass: 2 of 3 (100 x 2 / 3, computed the same way); this run
    # passed; one breach (-5 h).
    QUALITY: expected(QUALITY, 62.5, 100.0, 200 / 3, 0, 1),
    # probes ok -23, failed -22, ok -1, ok now: uptime 3/4; runs pass, fail, pass, pass: 3/4.
    AVAILABILITY: expected(AVAILABILITY, 75.0, 99.0, 75.0, 0, 1),
    DRIFT: expected(DRIFT, 3.0, 0.0, 0.0, 1, 1),
    DEPRECATION: expected(DEPRECATION, 45.0, 0.0, 100.0, 0, 0),
}


def test_sla_status_from_a_synthetic_history(state_db: Any) -> None:
    async def scenario() -> None:
        async with state_db.store() as store:
            for result, events in HISTORY:
                await store.record_run(REGISTERED, [result], events, [])
            results = [r for r, _ in THIS_RUN]
            events = [e for _, found in THIS_RUN for e in found]
            history = await load_history(
                store, "orders", [r.check_type for r in results], T0, SeverityThresholds()
            )
            assert history.critical_breaches[FRESHNESS] == 3
            results, events = escalate(
                results, events, history.critical_breaches, SeverityThresholds()
            )
            statuses = sla_statuses(results, events, history, T0)
            await store.record_run(REGISTERED, results, events, statuses)

            stored = {s.check_type: s for s in await store.sla_statuses("orders")}
            assert stored == EXPECTED
            # The fourth freshness breach in 24 h was escalated as it was persisted.
            assert await store.breaches_in_window("orders", FRESHNESS, T0) == 1
            assert [e.severity for e in events if e.violation_type is FRESHNESS] == [
                ViolationSeverity.CRITICAL
            ]

    asyncio.run(scenario())


def test_runs_that_measured_nothing_leave_the_status_alone() -> None:
    error, _ = run(0, FRESHNESS, "error", {"reason": "timeout"})
    skipped, _ = run(0, QUALITY, "skipped", {"reason": "no rules"})
    assert sla_statuses([error, skipped], [], load_nothing(), T0) == []


def load_nothing() -> Any:
    from floe_core.monitoring.history import RunHistory

    return RunHistory()


@pytest.mark.parametrize(
    ("check_type", "details", "value"),
    [
        (FRESHNESS, {"tables": [{"table": "a", "age_seconds": None, "threshold_seconds": 60}]},
         float("inf")),
        (DEPRECATION, {"days_until_end_of_life": -3}, 0.0),
        (DEPRECATION, {"days_until_end_of_life": None}, 0.0),
        (QUALITY, {"quality_score": None}, 0.0),
        (AVAILABILITY, {"uptime_pct": 50.0, "target_pct": None}, 50.0),
    ],
)  # fmt: skip
def test_edge_values(check_type: ViolationType, details: dict[str, Any], value: float) -> None:
    result, _ = run(0, check_type, "fail", details)
    status = sla_status(result, TypeHistory(), {check_type}, T0)
    assert status.current_value == value
    if check_type is AVAILABILITY:
        assert status.threshold == 100.0  # no availability SLA: every probe must succeed
