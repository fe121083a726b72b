"""``floe sla status`` and ``floe sla history`` on both backends, read through StateStore."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import click
import pytest

from floe_core.cli.sla import parse_since
from floe_core.events import (
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)
from floe_core.state.engine import open_state
from floe_core.state.store import StateStore
from tests._factories import T0, check_result, sla_status, violation

FRESHNESS = ViolationType.FRESHNESS
QUALITY = ViolationType.QUALITY
ERROR = ViolationSeverity.ERROR
WARNING = ViolationSeverity.WARNING


def event(
    at: datetime,
    severity: ViolationSeverity = ERROR,
    check_type: ViolationType = FRESHNESS,
    contract: str = "orders",
    metadata: dict[str, str] | None = None,
) -> ContractViolationEvent:
    message = f"{check_type.value} {severity.value} at {at:%H:%M}"
    return violation(
        at,
        severity,
        check_type,
        contract=contract,
        message=message,
        element="updated_at",
        metadata=metadata or {},
        duration=0.25,
    )


def result(
    at: datetime,
    status: CheckStatus,
    check_type: ViolationType = FRESHNESS,
    violation: ContractViolationEvent | None = None,
    contract: str = "orders",
) -> CheckResult:
    details: dict[str, Any] = (
        {"quality_score": 75.0, "rules": [{"status": "pass"}, {"status": "fail"}]}
        if check_type is QUALITY
        else {
            "tables": [
                {
                    "table": "sales.orders",
                    "age_seconds": 10800.0,
                    "threshold_seconds": 3600.0,
                    "consumed_pct": 300.0,
                    "method": "snapshot",
                }
            ]
        }
    )
    return check_result(
        at, status, check_type, violation, contract=contract, details=details, duration=0.25
    )


def status(
    check_type: ViolationType,
    value: float,
    threshold: float,
    compliance: float,
    failures: int,
    breaches: int,
    at: datetime = T0,
    contract: str = "orders",
) -> SLAStatus:
    return sla_status(
        check_type,
        value,
        threshold=threshold,
        compliance=compliance,
        failures=failures,
        breaches=breaches,
        at=at,
        contract=contract,
    )


def record(
    url: str,
    runs: Sequence[
        tuple[str, Sequence[CheckResult], Sequence[ContractViolationEvent], Sequence[SLAStatus]]
    ],
) -> None:
    """Create the schema on ``url`` and write ``runs`` through ``StateStore.record_run``."""

    async def write() -> None:
        engine = await open_state(url, auto_upgrade=True)
        try:
            store = StateStore(engine)
            for name, results, events, statuses in runs:
                registered: Any = SimpleNamespace(contract_name=name)
                await store.record_run(registered, results, events, statuses)
        finally:
            await engine.dispose()

    asyncio.run(write())


def upgraded(url: str) -> None:
    record(url, [])


def sla(floe: Any, url: str, *args: str) -> Any:
    return floe("sla", *args, env={"FLOE_STATE_URL": url})


@pytest.fixture
def two_contracts(state_url: str) -> str:
    """orders (freshness failing, quality) and payments (freshness), as three runs left them."""
    breach = event(T0, metadata={"escalated": "true", "breaches_in_window": "4"})
    record(
        state_url,
        [
            (
                "orders",
                [result(T0, CheckStatus.FAIL, violation=breach)],
                [breach],
                [status(FRESHNESS, float("inf"), 3600.0, 25.0, 3, 4)],
            ),
            (
                "orders",
                [result(T0, CheckStatus.PASS, QUALITY)],
                [],
                [status(QUALITY, 75.0, 100.0, 100.0, 0, 0)],
            ),
            (
                "payments",
                [result(T0, CheckStatus.PASS, contract="payments")],
                [],
                [status(FRESHNESS, 1200.0, 3600.0, 100.0, 0, 0, contract="payments")],
            ),
        ],
    )
    return state_url


# floe sla status ------------------------------------------------------------------------


def test_status_json_lists_every_row_by_contract_and_check_type(
    floe: Any, two_contracts: str
) -> None:
    out = sla(floe, two_contracts, "status", "--format", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert list(doc) == ["statuses"]
    rows = [(s["contract_name"], s["check_type"]) for s in doc["statuses"]]
    assert rows == [("orders", "freshness"), ("orders", "quality"), ("payments", "freshness")]
    first = doc["statuses"][0]
    assert first == {
        "contract_name": "orders",
        "check_type": "freshness",
        "current_value": None,  # infinitely stale: JSON has no infinity
        "threshold": 3600.0,
        "compliance_pct": 25.0,
        "last_check_time": "2024-06-01T12:00:00Z",
        "consecutive_failures": 3,
        "violation_count_24h": 4,
        "window_start": "2024-05-31T12:00:00Z",
    }


def test_status_of_one_contract_as_a_table(floe: Any, two_contracts: str) -> None:
    out = sla(floe, two_contracts, "status", "orders")
    assert out.exit_code == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if "orders" in line and "│" in line]
    assert len(lines) == 2
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert cells[0] == [
        "orders", "freshness", "no data", "1h", "25.0%", "3", "4", "2024-06-01 12:00:00 UTC",
    ]  # fmt: skip
    assert cells[1] == [
        "orders", "quality", "75", "100", "100.0%", "0", "0", "2024-06-01 12:00:00 UTC",
    ]  # fmt: skip
    assert "payments" not in out.stdout
    one = json.loads(sla(floe, two_contracts, "status", "payments", "--format", "json").stdout)
    assert [(s["contract_name"], s["current_value"]) for s in one["statuses"]] == [
        ("payments", 1200.0)
    ]


def test_status_on_an_empty_database_says_so(floe: Any, state_url: str) -> None:
    upgraded(state_url)
    out = sla(floe, state_url, "status")
    assert out.exit_code == 0, out.stderr
    assert "No SLA status recorded yet" in out.stdout
    assert "run floe sla check" in out.stdout
    named = sla(floe, state_url, "status", "ghost")
    assert named.exit_code == 0
    assert "No SLA status recorded yet for contract 'ghost'" in named.stdout
    doc = json.loads(sla(floe, state_url, "status", "--format", "json").stdout)
    assert doc == {"statuses": []}


# floe sla history -----------------------------------------------------------------------


@pytest.fixture
def a_day_of_runs(state_url: str) -> str:
    """orders checked at T0-30h, T0-5h, T0-1h (fail, escalated) and T0; payments at T0."""
    old = event(T0 - timedelta(hours=30))
    warning = event(T0 - timedelta(hours=5), WARNING)
    breach = event(T0 - timedelta(hours=1), metadata={"escalated": "true"})
    record(
        state_url,
        [
            ("orders", [result(T0 - timedelta(hours=30), CheckStatus.FAIL, violation=old)],
             [old], []),
            ("orders", [result(T0 - timedelta(hours=5), CheckStatus.PASS, violation=warning)],
             [warning], []),
            ("orders", [result(T0 - timedelta(hours=1), CheckStatus.FAIL, violation=breach)],
             [breach], []),
            ("orders", [result(T0, CheckStatus.PASS), result(T0, CheckStatus.PASS, QUALITY)],
             [], []),
            ("payments", [result(T0, CheckStatus.FAIL, contract="payments")], [], []),
        ],
    )  # fmt: skip
    return state_url


def history(floe: Any, url: str, *args: str) -> dict[str, Any]:
    out = sla(floe, url, "history", *args, "--format", "json")
    assert out.exit_code == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def test_history_json_newest_first_since_a_datetime(floe: Any, a_day_of_runs: str) -> None:
    doc = history(floe, a_day_of_runs, "orders", "--since", "2024-05-31T12:00:00Z")
    assert list(doc) == ["contract_name", "results", "violations"]
    assert doc["contract_name"] == "orders"
    assert [(r["timestamp"], r["check_type"], r["status"]) for r in doc["results"]] == [
        ("2024-06-01T12:00:00Z", "freshness", "pass"),
        ("2024-06-01T12:00:00Z", "quality", "pass"),
        ("2024-06-01T11:00:00Z", "freshness", "fail"),
        ("2024-06-01T07:00:00Z", "freshness", "pass"),
    ]
    assert {r["contract_name"] for r in doc["results"]} == {"orders"}
    assert doc["results"][2]["violation"]["severity"] == "error"
    assert doc["results"][2]["details"]["tables"][0]["age_seconds"] == 10800.0
    assert [(v["timestamp"], v["severity"]) for v in doc["violations"]] == [
        ("2024-06-01T11:00:00Z", "error"),
        ("2024-06-01T07:00:00Z", "warning"),
    ]
    newest = doc["violations"][0]
    assert newest["metadata"] == {"escalated": "true"}
    assert newest["check_duration_seconds"] == 0.25
    assert newest["affected_consumers"] == ["finance-dashboard"]
    assert newest["message"] == "freshness error at 11:00"
    assert CheckResult.model_validate(doc["results"][0]).timestamp == T0


def test_history_since_a_date_and_limit(floe: Any, a_day_of_runs: str) -> None:
    everything = history(floe, a_day_of_runs, "orders", "--since", "2024-05-01")
    assert len(everything["results"]) == 5
    assert everything["results"][-1]["timestamp"] == "2024-05-31T06:00:00Z"
    assert len(everything["violations"]) == 3
    limited = history(floe, a_day_of_runs, "orders", "--since", "2024-05-01", "--limit", "2")
    assert [r["check_type"] for r in limited["results"]] == ["freshness", "quality"]
    assert [v["timestamp"] for v in limited["violations"]] == [
        "2024-06-01T11:00:00Z",
        "2024-06-01T07:00:00Z",
    ]
    later = history(floe, a_day_of_runs, "orders", "--since", "2024-06-01T11:30:00+00:00")
    assert len(later["results"]) == 2
    assert later["violations"] == []


def test_history_default_is_the_last_24_hours_and_accepts_durations(
    floe: Any, state_url: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    recent = event(now - timedelta(hours=2))
    record(
        state_url,
        [
            ("orders", [result(now - timedelta(days=3), CheckStatus.PASS)], [], []),
            ("orders", [result(now - timedelta(hours=30), CheckStatus.PASS)], [], []),
            ("orders", [result(now - timedelta(hours=2), CheckStatus.FAIL, violation=recent)],
             [recent], []),
        ],
    )  # fmt: skip
    day = history(floe, state_url, "orders")
    assert [r["status"] for r in day["results"]] == ["fail"]
    assert len(day["violations"]) == 1
    assert len(history(floe, state_url, "orders", "--since", "2d")["results"]) == 2
    assert len(history(floe, state_url, "orders", "--since", "P7D")["results"]) == 3
    assert len(history(floe, state_url, "orders", "--since", "PT1H")["results"]) == 0


def test_history_as_a_table(floe: Any, a_day_of_runs: str) -> None:
    out = sla(floe, a_day_of_runs, "history", "orders", "--since", "2024-06-01")
    assert out.exit_code == 0, out.stderr
    text = out.stdout
    assert "orders: check results since 2024-06-01 00:00:00 UTC" in text
    assert "orders: violations since 2024-06-01 00:00:00 UTC" in text
    rows = [line for line in text.splitlines() if line.startswith("│ 2024-06-01")]
    assert [r.split("│")[1].strip() for r in rows] == [
        "2024-06-01 12:00:00", "2024-06-01 12:00:00", "2024-06-01 11:00:00",
        "2024-06-01 07:00:00", "2024-06-01 11:00:00", "2024-06-01 07:00:00",
    ]  # fmt: skip
    assert "FAIL" in text
    assert "WARNING" in text
    assert "escalated" in text
    assert "newest data 3h old" in text


def test_history_of_an_unknown_contract_says_so(floe: Any, a_day_of_runs: str) -> None:
    out = sla(floe, a_day_of_runs, "history", "ghost")
    assert out.exit_code == 0, out.stderr
    assert "No check results or violations recorded for contract 'ghost'" in out.stdout
    doc = history(floe, a_day_of_runs, "ghost", "--since", "2000-01-01")
    assert doc == {"contract_name": "ghost", "results": [], "violations": []}


def test_history_rejects_a_bad_since(floe: Any, state_url: str) -> None:
    upgraded(state_url)
    out = sla(floe, state_url, "history", "orders", "--since", "last week")
    assert out.exit_code == 2
    assert "--since" in out.stderr
    assert "'last week' is not a time floe understands" in out.stderr
    # The CLI's own words, not the contract YAML's ("add unit:").
    assert "unit:" not in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_parse_since() -> None:
    assert parse_since("7d", T0) == T0 - timedelta(days=7)
    assert parse_since("PT6H", T0) == T0 - timedelta(hours=6)
    assert parse_since("90 m", T0) == T0 - timedelta(minutes=90)
    assert parse_since("2024-05-30", T0) == datetime(2024, 5, 30, tzinfo=UTC)
    assert parse_since("2024-05-30T08:00", T0) == datetime(2024, 5, 30, 8, tzinfo=UTC)
    assert parse_since("2024-05-30T10:00+02:00", T0) == datetime(2024, 5, 30, 8, tzinfo=UTC)
    midnight = T0.replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_since("today", T0) == midnight
    assert parse_since(" Yesterday ", T0) == midnight - timedelta(days=1)
    for bad in ("", "soon", "0d", "2024-13-01", "3x"):
        with pytest.raises(click.BadParameter):
            parse_since(bad, T0)


# The database cannot be used --------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("status",), ("status", "orders"), ("history", "orders", "--since", "7d")]
)
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_unreachable_database_exits_2_with_one_masked_message(
    floe: Any, closed_port: int, args: tuple[str, ...], fmt: str
) -> None:
    url = f"postgresql://floe:s3cret@127.0.0.1:{closed_port}/floe"
    out = sla(floe, url, *args, "--format", fmt)
    assert out.exit_code == 2
    assert out.stdout == ""
    assert "s3cret" not in out.stderr
    assert f"floe:***@127.0.0.1:{closed_port}" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.exception is None
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [("status",), ("history", "orders")])
def test_a_database_not_upgraded_exits_2(
    floe: Any, postgresql_state_url: str, args: tuple[str, ...]
) -> None:
    out = sla(floe, postgresql_state_url, *args)
    assert out.exit_code == 2
    assert "floe sla db upgrade" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""
