"""The pagerduty channel against a real HTTP server on 127.0.0.1 standing in for the Events API
v2 (``events_url``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any

import httpx
import pytest

from floe_alert_pagerduty import PagerDutyAlertChannel, PagerDutyChannelConfig
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.alerts import SAMPLE_TIME, run_and_close
from floe_core.testing.alerts import sample_violation as violation
from floe_core.testing.receiver import Answer, HttpReceiver

T0 = SAMPLE_TIME
ROUTING_KEY = "R0UT1NGk3yS3CR3Tr0ut1ngK3yS3cr3t"  # 32 characters, like PagerDuty's
CRITICAL, ERROR, WARNING, INFO = (
    ViolationSeverity.CRITICAL,
    ViolationSeverity.ERROR,
    ViolationSeverity.WARNING,
    ViolationSeverity.INFO,
)
FRESHNESS, SCHEMA_DRIFT, QUALITY = (
    ViolationType.FRESHNESS,
    ViolationType.SCHEMA_DRIFT,
    ViolationType.QUALITY,
)


def resolved(contract: str = "orders", check_type: ViolationType = FRESHNESS) -> ResolvedNotice:
    return ResolvedNotice(
        contract_name=contract,
        contract_version="1.2.0",
        violation_type=check_type,
        elements=["sales.orders"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="orders is fresh again",
    )


def run(
    channel: PagerDutyAlertChannel, send: Callable[[PagerDutyAlertChannel], Awaitable[bool]]
) -> bool:
    return run_and_close(channel, send(channel))


def channel_for(receiver: HttpReceiver, **config: Any) -> PagerDutyAlertChannel:
    return PagerDutyAlertChannel(
        {"routing_key": ROUTING_KEY, "events_url": receiver.url("/v2/enqueue"), **config}
    )


def triggered(events: list[ContractViolationEvent], **config: Any) -> list[dict[str, Any]]:
    """The bodies PagerDuty receives for ``events``, by dedup_key."""
    with HttpReceiver() as receiver:
        receiver.respond(Answer(202, body=b'{"status": "success"}'))
        assert run(channel_for(receiver, **config), lambda c: c.send_alerts(events))
        bodies = [request.json() for request in receiver.requests]
        assert all(r.path == "/v2/enqueue" for r in receiver.requests)
        assert all(r.headers["content-type"] == "application/json" for r in receiver.requests)
    return sorted(bodies, key=lambda body: body["dedup_key"])


def assert_no_routing_key(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert ROUTING_KEY not in record.getMessage() + repr(record.__dict__), record


# --- plugin identity and config ----------------------------------------------------------


def test_it_is_found_through_the_entry_point_group() -> None:
    assert PluginRegistry().get(PluginType.ALERT_CHANNEL, "pagerduty") is PagerDutyAlertChannel
    channel = PagerDutyAlertChannel()
    assert (channel.name, channel.version, channel.floe_api_version) == (
        "pagerduty",
        version("floe-alert-pagerduty"),
        FLOE_API_VERSION,
    )
    assert PagerDutyAlertChannel.get_config_schema() is PagerDutyChannelConfig


def test_a_valid_config_has_pagerdutys_url_and_a_timeout_by_default() -> None:
    channel = PagerDutyAlertChannel({"routing_key": ROUTING_KEY})
    assert channel.validate_config() == []
    settings = channel.settings()
    assert settings.events_url == "https://events.pagerduty.com/v2/enqueue"
    assert settings.timeout_seconds == 10
    assert ROUTING_KEY in channel.secrets()
    assert channel.health_check().state is HealthState.HEALTHY


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "config.routing_key: Field required"),
        ({"routing_key": "  "}, "config.routing_key: Value error, must be the integration key"),
        (
            {"routing_key": ROUTING_KEY, "events_url": "events.pagerduty.com"},
            "config.events_url: Value error, must be an http(s) URL",
        ),
        (
            {"routing_key": ROUTING_KEY, "timeout_seconds": -1},
            "config.timeout_seconds: Input should be greater than 0",
        ),
        (
            {"routing_key": ROUTING_KEY, "service_key": "x"},
            "config.service_key: Extra inputs are not permitted",
        ),
    ],
)
def test_config_problems_name_the_field(config: dict[str, Any], problem: str) -> None:
    channel = PagerDutyAlertChannel(config)
    [found] = channel.validate_config()
    assert found.startswith(problem)
    assert ROUTING_KEY not in found
    assert channel.health_check().state is HealthState.UNHEALTHY


def test_an_invalid_config_sends_nothing_and_returns_false(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with HttpReceiver() as receiver, caplog.at_level(logging.DEBUG):
        channel = channel_for(receiver, timeout_seconds=0)
        assert not run(channel, lambda c: c.send_alert(violation()))
        assert not run(channel, lambda c: c.send_resolved(resolved()))
        assert receiver.requests == []
    assert "timeout_seconds" in caplog.text
    assert_no_routing_key(caplog)


# --- what it sends -----------------------------------------------------------------------


def test_a_violation_is_one_trigger_in_the_events_api_v2_shape() -> None:
    event = violation(CRITICAL, message="orders is 3h old", metadata={"table": "sales.orders"})
    [body] = triggered([event])
    assert body == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "floe:orders:freshness",
        "client": "floe",
        "payload": {
            "summary": "CRITICAL: contract orders 1.2.0 broke its freshness SLA: orders is 3h old",
            "source": "floe-contract-monitor",
            "severity": "critical",
            "timestamp": "2024-06-01T12:00:00+00:00",
            "component": "orders",
            "class": "freshness",
            "custom_details": {
                "contract": "orders",
                "contract_version": "1.2.0",
                "violation_type": "freshness",
                "severity": "critical",
                "message": "orders is 3h old",
                "element": "sales.orders",
                "expected": "age <= 1h",
                "actual": "age 3h",
                "affected_consumers": ["finance-dashboard"],
                "metadata": {"table": "sales.orders"},
                "check_duration_seconds": 0.25,
                "elements": ["sales.orders"],
                "violation_count": 1,
                "violations": [
                    {
                        "severity": "critical",
                        "message": "orders is 3h old",
                        "element": "sales.orders",
                        "expected": "age <= 1h",
                        "actual": "age 3h",
                        "timestamp": "2024-06-01T12:00:00+00:00",
                        "metadata": {"table": "sales.orders"},
                    }
                ],
            },
        },
    }
    assert datetime.fromisoformat(body["payload"]["timestamp"]) == T0


@pytest.mark.parametrize(
    ("severity", "expected"),
    [(CRITICAL, "critical"), (ERROR, "error"), (WARNING, "warning"), (INFO, "info")],
)
def test_severity_maps_to_pagerdutys(severity: ViolationSeverity, expected: str) -> None:
    [body] = triggered([violation(severity)])
    assert body["payload"]["severity"] == expected


def test_a_group_is_one_trigger_per_violation_type_named_after_its_most_severe() -> None:
    events = [
        violation(WARNING, QUALITY, element="orders.amount", affected_consumers=["bi"]),
        violation(ERROR, SCHEMA_DRIFT, element="orders.id"),
        violation(CRITICAL, QUALITY, element="orders.email", message="emails are null"),
        violation(CRITICAL, QUALITY, element="orders.phone", message="phones are null"),
    ]
    quality, schema_drift = triggered(events)
    assert (quality["dedup_key"], schema_drift["dedup_key"]) == (
        "floe:orders:quality",
        "floe:orders:schema_drift",
    )
    payload = quality["payload"]
    assert payload["summary"] == (
        "CRITICAL: contract orders 1.2.0 broke its quality SLA (+2 more): emails are null"
    )
    assert payload["severity"] == "critical"
    details = payload["custom_details"]
    assert details["element"] == "orders.email"  # the first of the most severe
    assert details["elements"] == ["orders.amount", "orders.email", "orders.phone"]
    assert details["affected_consumers"] == ["bi", "finance-dashboard"]
    assert details["violation_count"] == 3
    assert [v["severity"] for v in details["violations"]] == ["warning", "critical", "critical"]
    assert schema_drift["payload"]["severity"] == "error"


def test_the_dedup_key_is_stable_across_runs_and_the_resolve_uses_it() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(202))
        channel = channel_for(receiver)

        async def two_runs_then_resolve(c: PagerDutyAlertChannel) -> bool:
            first = await c.send_alert(violation(WARNING, element="a", message="getting stale"))
            second = await c.send_alerts([violation(CRITICAL, element="b"), violation()])
            return first and second and await c.send_resolved(resolved())

        assert run(channel, two_runs_then_resolve)
        bodies = [request.json() for request in receiver.requests]
    assert [b["dedup_key"] for b in bodies] == ["floe:orders:freshness"] * 3
    assert [b["event_action"] for b in bodies] == ["trigger", "trigger", "resolve"]
    assert bodies[2] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "floe:orders:freshness",
    }


def test_dedup_keys_tell_contracts_and_types_apart_and_fit_in_255_characters() -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    events = [violation(contract_name=name) for name in ("orders", "customers", long_a, long_b)]
    events.append(violation(check_type=QUALITY))
    keys = [body["dedup_key"] for body in triggered(events)]
    assert len(set(keys)) == 5
    assert all(len(key) <= 255 for key in keys)
    assert {"floe:orders:freshness", "floe:orders:quality", "floe:customers:freshness"} < set(keys)
    with HttpReceiver() as receiver:
        assert run(channel_for(receiver), lambda c: c.send_resolved(resolved(long_b)))
        [resolve] = receiver.requests
    assert resolve.json()["dedup_key"] in keys


def test_the_summary_is_cut_to_1024_characters_with_an_ellipsis() -> None:
    [body] = triggered([violation(message="x" * 5000)])
    summary = body["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("x…")
    [short] = triggered([violation(message="y" * 900)])
    assert not short["payload"]["summary"].endswith("…")


def test_a_large_group_lists_100_violations_and_names_every_element() -> None:
    events = [violation(ERROR, QUALITY, element=f"rule_{i}") for i in range(250)]
    [body] = triggered(events)
    details = body["payload"]["custom_details"]
    assert len(details["violations"]) == 100
    assert details["violations_not_listed"] == 150
    assert details["violation_count"] == 250
    assert len(details["elements"]) == 250
    assert len(json.dumps(body)) < 512 * 1024


# --- failures: False, never raised, the routing key never logged -------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            Answer(400, body=b'{"status": "invalid event", "errors": ["Length of routing_key"]}'),
            "HTTP 400 Bad Request",
        ),
        (Answer(500), "HTTP 500 Internal Server Error"),
    ],
)
def test_an_error_answer_is_false_and_not_retried(
    answer: Answer, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with HttpReceiver() as receiver, caplog.at_level(logging.DEBUG):
        receiver.respond(answer)
        channel = channel_for(receiver)
        assert not run(channel, lambda c: c.send_alert(violation()))
        assert not run(channel, lambda c: c.send_resolved(resolved()))
        assert len(receiver.requests) == 2
        assert receiver.requests[0].json()["routing_key"] == ROUTING_KEY  # in the body: fine
    failures = [r for r in caplog.records if r.name == "floe_core.plugins.http_channel"]
    assert [r.getMessage().rsplit(": ", 1)[1] for r in failures] == [reason, reason]
    assert_no_routing_key(caplog)


def test_one_rejected_trigger_makes_the_group_false_but_the_others_are_sent() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(202), Answer(500), Answer(202))
        events = [violation(check_type=kind) for kind in (FRESHNESS, QUALITY, SCHEMA_DRIFT)]
        assert not run(channel_for(receiver), lambda c: c.send_alerts(events))
        assert len(receiver.requests) == 3


def test_an_events_api_that_hangs_is_given_up_at_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with HttpReceiver() as receiver, caplog.at_level(logging.DEBUG):
        receiver.respond(Answer(delay=3))
        started = time.monotonic()
        events = [violation(check_type=FRESHNESS), violation(check_type=QUALITY)]
        assert not run(channel_for(receiver, timeout_seconds=0.5), lambda c: c.send_alerts(events))
        elapsed = time.monotonic() - started
    assert elapsed < 2  # the triggers wait side by side, not one after the other
    assert "no answer within 0.5 s" in caplog.text
    assert_no_routing_key(caplog)


def test_a_refused_connection_is_false(caplog: pytest.LogCaptureFixture, closed_port: int) -> None:
    config = {"routing_key": ROUTING_KEY, "events_url": f"http://127.0.0.1:{closed_port}/v2"}
    with caplog.at_level(logging.DEBUG):
        assert not run(PagerDutyAlertChannel(config), lambda c: c.send_alert(violation()))
    assert "ConnectError" in caplog.text
    assert_no_routing_key(caplog)


def test_a_429_with_retry_after_is_tried_once_more() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(429, {"Retry-After": "1"}), Answer(202))
        assert run(channel_for(receiver, timeout_seconds=3), lambda c: c.send_alert(violation()))
        first, second = receiver.requests
    assert first.body == second.body
    assert second.at - first.at >= 0.95


def test_an_error_quoting_the_body_is_logged_with_the_key_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.WriteError(f"could not send {request.content.decode()}", request=request)

    channel = PagerDutyAlertChannel(
        {"routing_key": ROUTING_KEY}, transport=httpx.MockTransport(fail)
    )
    with caplog.at_level(logging.DEBUG):
        assert not run(channel, lambda c: c.send_alert(violation()))
    assert '"routing_key": "***"' in caplog.text
    assert_no_routing_key(caplog)
