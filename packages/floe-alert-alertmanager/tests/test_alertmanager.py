"""The ``alertmanager`` channel against a real Prometheus Alertmanager (and a recording server
for what goes over the wire): alerts fire, group, change severity and resolve."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Any, TypeVar

import httpx
import pytest

from floe_alert_alertmanager import ALERTNAME, AlertmanagerAlertChannel
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.metadata import HealthState
from floe_core.testing.alerts import run_and_close, sample_violation
from floe_core.testing.receiver import Answer, HttpReceiver

T = TypeVar("T")
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
USER, PASSWORD = "floe-user", "s3cr3t-Pa55"
SEVERITIES = {severity.value for severity in ViolationSeverity}


def violation(
    at: datetime,
    severity: ViolationSeverity = ViolationSeverity.ERROR,
    check_type: ViolationType = ViolationType.FRESHNESS,
    *,
    contract: str = "orders",
    element: str | None = None,
) -> ContractViolationEvent:
    """The sample violation of ``contract`` at ``at``, on ``element``."""
    fields = {"timestamp": at, "contract_name": contract, "element": element}
    return sample_violation(severity, check_type, check_duration_seconds=0.01, **fields)


def contract_name() -> str:
    """A contract of the test's own, so tests sharing the Alertmanager do not meet."""
    return f"orders-{uuid.uuid4().hex[:8]}"


def run(channel: AlertmanagerAlertChannel, call: Callable[[], Awaitable[T]]) -> T:
    return run_and_close(channel, call())


def held(alertmanager: str, contract: str) -> list[dict[str, Any]]:
    """The alerts Alertmanager holds (its API leaves resolved ones out) for ``contract``."""
    response = httpx.get(
        f"{alertmanager}/api/v2/alerts", params={"filter": f'contract="{contract}"'}, timeout=5
    )
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return alerts


def eventually(
    alertmanager: str, contract: str, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The alerts of ``contract`` once ``done`` holds for them; they, failing, after 10 s."""
    deadline = time.monotonic() + 10
    alerts = held(alertmanager, contract)
    while not done(alerts) and time.monotonic() < deadline:
        time.sleep(0.1)
        alerts = held(alertmanager, contract)
    assert done(alerts), alerts
    return alerts


def active(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [alert for alert in alerts if alert["status"]["state"] == "active"]


def active_count(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda alerts: len(active(alerts)) == count


def only_severity(severity: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda alerts: [alert["labels"]["severity"] for alert in alerts] == [severity]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def leaked(caplog: pytest.LogCaptureFixture, *texts: str) -> list[str]:
    """Every log record (message and fields) that contains one of ``texts``."""
    found = []
    for record in caplog.records:
        shown = f"{record.getMessage()} {record.__dict__}"
        found += [shown for text in texts if text in shown]
    return found


# --- against the real Alertmanager -------------------------------------------------------


def test_a_firing_violation_is_an_active_alert_with_its_labels(alertmanager: str) -> None:
    contract = contract_name()
    channel = AlertmanagerAlertChannel(
        {
            "url": alertmanager,
            "labels": {"team": "data-platform"},
            "resolve_timeout_minutes": 20,
            "generator_url": "https://floe.example.com/contracts",
        }
    )
    event = violation(T0, ViolationSeverity.ERROR, contract=contract, element="updated_at")

    sent_at = datetime.now(UTC)
    assert run(channel, lambda: channel.send_alert(event))

    [alert] = eventually(alertmanager, contract, active_count(1))
    assert alert["labels"] == {
        "alertname": ALERTNAME,
        "contract": contract,
        "violation_type": "freshness",
        "severity": "error",
        "element": "updated_at",
        "team": "data-platform",
    }
    assert alert["annotations"] == {
        "summary": f"{contract} 1.2.0: freshness on updated_at (error)",
        "description": "freshness error\nExpected: age <= 1h\nActual: age 3h\n"
        "Affected consumers: finance-dashboard",
    }
    assert parse_time(alert["startsAt"]) == T0
    ends_at = parse_time(alert["endsAt"]) - sent_at
    assert timedelta(minutes=19) < ends_at < timedelta(minutes=21)
    assert alert["generatorURL"] == "https://floe.example.com/contracts"
    assert alert["receivers"] == [{"name": "null"}]


def test_a_group_reaches_alertmanager_whole(alertmanager: str) -> None:
    contract = contract_name()
    channel = AlertmanagerAlertChannel({"url": alertmanager})
    events = [
        violation(T0, ViolationSeverity.ERROR, contract=contract),
        violation(
            T0, ViolationSeverity.WARNING, ViolationType.QUALITY, contract=contract, element="id"
        ),
        violation(
            T0,
            ViolationSeverity.CRITICAL,
            ViolationType.QUALITY,
            contract=contract,
            element="amount",
        ),
    ]

    assert run(channel, lambda: channel.send_alerts(events))

    alerts = eventually(alertmanager, contract, active_count(3))
    assert sorted(
        (a["labels"]["violation_type"], a["labels"].get("element"), a["labels"]["severity"])
        for a in alerts
    ) == [
        ("freshness", None, "error"),
        ("quality", "amount", "critical"),
        ("quality", "id", "warning"),
    ]


def test_a_severity_change_leaves_only_the_new_severity(alertmanager: str) -> None:
    contract = contract_name()
    channel = AlertmanagerAlertChannel({"url": alertmanager})

    async def escalate() -> list[bool]:
        first = await channel.send_alert(
            violation(T0, ViolationSeverity.WARNING, contract=contract)
        )
        await asyncio.to_thread(eventually, alertmanager, contract, active_count(1))
        later = T0 + timedelta(minutes=5)
        second = await channel.send_alert(
            violation(later, ViolationSeverity.ERROR, contract=contract)
        )
        return [first, second]

    assert run(channel, escalate) == [True, True]

    [alert] = eventually(
        alertmanager,
        contract,
        only_severity("error"),
    )
    assert alert["status"]["state"] == "active"


def test_a_resolved_notice_ends_its_alerts(alertmanager: str) -> None:
    contract = contract_name()
    other = contract_name()
    channel = AlertmanagerAlertChannel({"url": alertmanager})
    events = [
        violation(
            T0, ViolationSeverity.ERROR, ViolationType.QUALITY, contract=contract, element="id"
        ),
        violation(
            T0,
            ViolationSeverity.WARNING,
            ViolationType.QUALITY,
            contract=contract,
            element="amount",
        ),
        violation(T0, ViolationSeverity.ERROR, contract=contract),
        violation(T0, ViolationSeverity.ERROR, contract=other),
    ]
    notice = ResolvedNotice(
        contract_name=contract,
        contract_version="1.2.0",
        violation_type=ViolationType.QUALITY,
        elements=["id", "amount"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="quality is back within its thresholds",
    )

    async def fire_then_resolve() -> list[bool]:
        fired = await channel.send_alerts(events)
        await asyncio.to_thread(eventually, alertmanager, contract, active_count(3))
        return [fired, await channel.send_resolved(notice)]

    assert run(channel, fire_then_resolve) == [True, True]

    # Only the freshness alert (no element) of the contract is left; the other contract's stays.
    [alert] = eventually(alertmanager, contract, lambda alerts: len(alerts) == 1)
    assert alert["labels"]["violation_type"] == "freshness"
    assert "element" not in alert["labels"]
    assert len(active(held(alertmanager, other))) == 1


def test_a_notice_without_elements_ends_the_alert_without_one(alertmanager: str) -> None:
    contract = contract_name()
    channel = AlertmanagerAlertChannel({"url": alertmanager})
    notice = ResolvedNotice(
        contract_name=contract,
        contract_version="1.2.0",
        violation_type=ViolationType.FRESHNESS,
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="fresh again",
    )

    async def fire_then_resolve() -> list[bool]:
        fired = await channel.send_alert(
            violation(T0, ViolationSeverity.CRITICAL, contract=contract)
        )
        await asyncio.to_thread(eventually, alertmanager, contract, active_count(1))
        return [fired, await channel.send_resolved(notice)]

    assert run(channel, fire_then_resolve) == [True, True]
    eventually(alertmanager, contract, lambda alerts: alerts == [])


def test_health_check_is_healthy_against_alertmanager(alertmanager: str) -> None:
    status = AlertmanagerAlertChannel({"url": alertmanager + "/"}).health_check(timeout=5)
    assert (status.state, status.message) == (HealthState.HEALTHY, "")
    assert status.details["latency_ms"] >= 0


# --- what goes over the wire ----------------------------------------------------------------


def test_a_group_is_one_post_with_the_other_severities_ended() -> None:
    events = [
        violation(T0, ViolationSeverity.ERROR),
        violation(T0, ViolationSeverity.WARNING, ViolationType.QUALITY, element="id"),
    ]
    with HttpReceiver() as receiver:
        channel = AlertmanagerAlertChannel(
            {"url": f"http://{USER}:{PASSWORD}@127.0.0.1:{receiver.port}/am/"}
        )
        before = datetime.now(UTC)
        assert run(channel, lambda: channel.send_alerts(events))
        after = datetime.now(UTC)
        [request] = receiver.requests

    assert (request.method, request.path) == ("POST", "/am/api/v2/alerts")
    assert request.headers["content-type"] == "application/json"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {token}"
    alerts = request.json()
    assert len(alerts) == 2 * len(ViolationSeverity)
    firing = [a for a in alerts if parse_time(a["endsAt"]) > after]
    ended = [a for a in alerts if parse_time(a["endsAt"]) <= after]
    assert [(a["labels"]["violation_type"], a["labels"]["severity"]) for a in firing] == [
        ("freshness", "error"),
        ("quality", "warning"),
    ]
    assert all(before <= parse_time(a["endsAt"]) for a in ended)
    for kind, severity in [("freshness", "error"), ("quality", "warning")]:
        assert {
            a["labels"]["severity"] for a in ended if a["labels"]["violation_type"] == kind
        } == SEVERITIES - {severity}
    assert "generatorURL" not in alerts[0]


def test_events_of_one_alert_at_two_severities_fire_at_the_higher() -> None:
    events = [
        violation(T0, ViolationSeverity.CRITICAL, element="id"),
        violation(T0, ViolationSeverity.WARNING, element="id"),
    ]
    with HttpReceiver() as receiver:
        channel = AlertmanagerAlertChannel({"url": receiver.url()})
        assert run(channel, lambda: channel.send_alerts(events))
        [request] = receiver.requests
    now = datetime.now(UTC)
    firing = [a for a in request.json() if parse_time(a["endsAt"]) > now]
    assert [a["labels"]["severity"] for a in firing] == ["critical"]
    assert len(request.json()) == len(ViolationSeverity)


def test_a_resolved_notice_ends_every_severity_of_every_element() -> None:
    notice = ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=ViolationType.QUALITY,
        elements=["id", "amount"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="quality is back",
    )
    with HttpReceiver() as receiver:
        channel = AlertmanagerAlertChannel({"url": receiver.url()})
        assert run(channel, lambda: channel.send_resolved(notice))
        [request] = receiver.requests
    alerts = request.json()
    assert sorted((a["labels"]["element"], a["labels"]["severity"]) for a in alerts) == sorted(
        (element, severity) for element in ("id", "amount") for severity in SEVERITIES
    )
    assert all(parse_time(a["endsAt"]) <= datetime.now(UTC) for a in alerts)
    assert {a["annotations"]["description"] for a in alerts} == {"quality is back"}


def test_no_events_send_nothing() -> None:
    with HttpReceiver() as receiver:
        channel = AlertmanagerAlertChannel({"url": receiver.url()})
        assert run(channel, lambda: channel.send_alerts([]))
        assert receiver.requests == []


# --- failures: False within the timeout, credentials never shown ---------------------------


@pytest.mark.parametrize("answer", [Answer(500), Answer(400, body=b'"bad alert"')])
def test_an_error_answer_is_a_failure(answer: Answer, caplog: pytest.LogCaptureFixture) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(answer)
        channel = AlertmanagerAlertChannel(
            {"url": f"http://{USER}:{PASSWORD}@127.0.0.1:{receiver.port}"}
        )
        assert not run(channel, lambda: channel.send_alert(violation(T0)))
        assert len(receiver.requests) == 1
    assert f"HTTP {answer.status}" in caplog.text
    assert leaked(caplog, PASSWORD, USER) == []


def test_a_hanging_alertmanager_is_given_up_at_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(delay=3))
        channel = AlertmanagerAlertChannel(
            {"url": f"http://{USER}:{PASSWORD}@127.0.0.1:{receiver.port}", "timeout_seconds": 0.5}
        )
        started = time.monotonic()
        assert not run(channel, lambda: channel.send_alert(violation(T0)))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "no answer within 0.5 s" in caplog.text
    assert leaked(caplog, PASSWORD, USER) == []


def test_a_refused_connection_is_a_failure(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    channel = AlertmanagerAlertChannel(
        {"url": f"http://{USER}:{PASSWORD}@127.0.0.1:{closed_port}", "timeout_seconds": 2}
    )
    started = time.monotonic()
    assert not run(channel, lambda: channel.send_alert(violation(T0)))
    assert time.monotonic() - started < 2
    assert "ConnectError" in caplog.text
    assert leaked(caplog, PASSWORD, USER) == []


def test_health_check_is_unhealthy_when_nothing_listens(closed_port: int) -> None:
    channel = AlertmanagerAlertChannel({"url": f"http://{USER}:{PASSWORD}@127.0.0.1:{closed_port}"})
    status = channel.health_check(timeout=2)
    assert status.state is HealthState.UNHEALTHY
    assert status.message.startswith("Alertmanager unreachable: ConnectError")
    assert PASSWORD not in status.message
    assert USER not in status.message


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(503), "Alertmanager answered HTTP 503 Service Unavailable"),
        (Answer(delay=3), "Alertmanager gave no answer within 0.5 s"),
    ],
)
def test_health_check_is_unhealthy_when_alertmanager_is_not(answer: Answer, message: str) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(answer)
        channel = AlertmanagerAlertChannel({"url": receiver.url()})
        started = time.monotonic()
        status = channel.health_check(timeout=0.5)
        elapsed = time.monotonic() - started
        [request] = receiver.requests
    assert (status.state, status.message) == (HealthState.UNHEALTHY, message)
    assert (request.method, request.path) == ("GET", "/-/healthy")
    assert elapsed < 1.5


# --- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "config.url: Field required"),
        ({"url": "ftp://user:s3cr3t-Pa55@am:21"}, "config.url: Value error, must be an http://"),
        ({"url": "http://am:9093?x=s3cr3t-Pa55"}, "config.url: Value error, must be Alertmanager"),
        ({"url": "http://am:99999"}, "config.url: Value error, has a port"),
        ({"url": "http://am", "timeout_seconds": 0}, "config.timeout_seconds: Input should be"),
        ({"url": "http://am", "resolve_timeout_minutes": -1}, "config.resolve_timeout_minutes"),
        ({"url": "http://am", "labels": {"severity": "x"}}, "is set by floe itself"),
        ({"url": "http://am", "labels": {"2team": "x"}}, "is not valid in Alertmanager"),
        ({"url": "http://am", "labels": {"__team": "x"}}, "reserved"),
        ({"url": "http://am", "labels": {"team": ""}}, "empty value"),
        ({"url": "http://am", "generator_url": "floe"}, "config.generator_url"),
        ({"url": "http://am", "rooting_key": "x"}, "config.rooting_key: Extra inputs"),
    ],
)
def test_invalid_config_is_explained(config: dict[str, Any], problem: str) -> None:
    [found] = AlertmanagerAlertChannel(config).validate_config()
    assert problem in found
    assert PASSWORD not in found


def test_a_valid_config_has_no_problems() -> None:
    channel = AlertmanagerAlertChannel({"url": "https://am.example.com/alertmanager"})
    assert channel.validate_config() == []
    assert channel.settings().resolve_timeout_minutes == 15
    assert channel.settings().timeout_seconds == 10


def test_an_invalid_config_fails_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    channel = AlertmanagerAlertChannel({"url": f"ftp://{USER}:{PASSWORD}@am"})
    assert not run(channel, lambda: channel.send_alert(violation(T0)))
    assert "config of alert channel 'alertmanager' is invalid" in caplog.text
    assert channel.health_check().state is HealthState.UNHEALTHY
    assert leaked(caplog, PASSWORD) == []


def test_the_channel_is_found_by_its_entry_point() -> None:
    [found] = entry_points(group="floe.alert_channels", name="alertmanager")
    assert found.load() is AlertmanagerAlertChannel
    assert AlertmanagerAlertChannel.deduplicates_itself
    assert AlertmanagerAlertChannel().name == "alertmanager"
