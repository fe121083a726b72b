"""The ``webhook`` channel against a real HTTP server on 127.0.0.1.

What arrives is parsed back with the ``cloudevents`` SDK and its signatures verified with the
``standardwebhooks`` package: neither is the code under test.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Any, TypeVar

import httpx
import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.core.formats.json import JSONFormat
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from floe_alert_webhook import WebhookAlertChannel
from floe_alert_webhook._signing import signature
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.http_channel import Delivery
from floe_core.plugins.metadata import HealthState
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.alerts import run_and_close, sample_violation
from floe_core.testing.receiver import Answer, HttpReceiver, Received, free_port

T = TypeVar("T")
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
SECRET_PATH = "hooks/T0001/B0002/s3cr3tP4thV4lue"


def violation(
    at: datetime,
    severity: ViolationSeverity = ViolationSeverity.ERROR,
    check_type: ViolationType = ViolationType.FRESHNESS,
    *,
    message: str | None = None,
    element: str | None = None,
) -> ContractViolationEvent:
    """The sample violation at ``at``, with its own ``message`` and ``element``."""
    text = message or f"{check_type.value} {severity.value}"
    fields = {"timestamp": at, "message": text, "element": element, "check_duration_seconds": 0.01}
    return sample_violation(severity, check_type, **fields)


def run(channel: WebhookAlertChannel, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call()`` in a fresh event loop, then close the channel's client."""
    return run_and_close(channel, call())


def parse(request: Received) -> BaseCloudEvent:
    """The request's CloudEvent as the SDK reads it (binary or structured mode, auto-detected)."""
    return from_http_event(HTTPMessage(request.headers, request.body))


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return free_port()


def channel_for(url: str, **config: Any) -> WebhookAlertChannel:
    return WebhookAlertChannel({"url": url, "timeout_seconds": 2, **config})


def test_one_violation_arrives_as_a_structured_cloudevent(receiver: HttpReceiver) -> None:
    event = violation(T0, ViolationSeverity.ERROR, ViolationType.QUALITY, element="id")
    channel = channel_for(receiver.url("/hook"))
    assert run(channel, lambda: channel.send_alert(event)) is True
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["content-type"] == "application/cloudevents+json"
    assert not any(name.startswith(("ce-", "webhook-")) for name in request.headers)
    parsed = parse(request)
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_type() == "floe.contract.violation"
    assert parsed.get_source() == "floe-contract-monitor"
    assert uuid.UUID(parsed.get_id()).version == 4
    assert parsed.get_time() == T0
    assert parsed.get_subject() == "orders"
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_data() == {
        "contractName": "orders",
        "contractVersion": "1.2.0",
        "violationType": "quality",
        "severity": "error",
        "message": "quality error",
        "element": "id",
        "expectedValue": "age <= 1h",
        "actualValue": "age 3h",
        "affectedConsumers": ["finance-dashboard"],
        "timestamp": "2024-06-01T12:00:00Z",
        "metadata": {"table": "sales.orders"},
    }
    assert json.loads(request.body)["time"] == "2024-06-01T12:00:00Z"


def test_a_run_of_three_violations_is_one_batch_request(receiver: HttpReceiver) -> None:
    events = [
        violation(T0 + timedelta(seconds=n), check_type=kind, message=f"problem {n}")
        for n, kind in enumerate(
            [ViolationType.FRESHNESS, ViolationType.SCHEMA_DRIFT, ViolationType.QUALITY]
        )
    ]
    channel = channel_for(receiver.url("/hook"))
    assert run(channel, lambda: channel.send_alerts(events)) is True
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/cloudevents-batch+json"
    items = request.json()
    assert isinstance(items, list)
    parsed = [JSONFormat().read(None, json.dumps(item)) for item in items]
    assert [event.get_type() for event in parsed] == ["floe.contract.violation"] * 3
    assert len({event.get_id() for event in parsed}) == 3
    assert [event.get_time() for event in parsed] == [event.timestamp for event in events]
    data = [event.get_data() for event in parsed]
    assert all(isinstance(d, dict) for d in data)
    assert [(d["violationType"], d["message"]) for d in data if isinstance(d, dict)] == [
        ("freshness", "problem 0"),
        ("schema_drift", "problem 1"),
        ("quality", "problem 2"),
    ]


def test_a_resolved_notice_is_a_resolved_event(receiver: HttpReceiver) -> None:
    notice = ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=ViolationType.SCHEMA_DRIFT,
        elements=["orders.id", "orders.updated_at"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="schema of orders matches its contract again",
    )
    channel = channel_for(receiver.url("/hook"))
    assert run(channel, lambda: channel.send_resolved(notice)) is True
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/cloudevents+json"
    parsed = parse(request)
    assert (parsed.get_type(), parsed.get_source()) == (
        "floe.contract.resolved",
        "floe-contract-monitor",
    )
    assert parsed.get_time() == T0 + timedelta(hours=1)
    assert parsed.get_data() == {
        "contractName": "orders",
        "contractVersion": "1.2.0",
        "violationType": "schema_drift",
        "elements": ["orders.id", "orders.updated_at"],
        "alertedAt": "2024-06-01T12:00:00Z",
        "resolvedAt": "2024-06-01T13:00:00Z",
        "message": "schema of orders matches its contract again",
    }


def test_no_violations_send_nothing(receiver: HttpReceiver) -> None:
    channel = channel_for(receiver.url("/hook"))
    assert run(channel, lambda: channel.send_alerts([])) is True
    time.sleep(0.1)
    assert receiver.requests == []


NOTICE = ResolvedNotice(
    contract_name="orders",
    contract_version="1.2.0",
    violation_type=ViolationType.FRESHNESS,
    alerted_at=T0,
    resolved_at=T0 + timedelta(hours=1),
    message="fresh again",
)
SENDS: dict[str, Callable[[WebhookAlertChannel], Awaitable[bool]]] = {
    "one": lambda channel: channel.send_alert(violation(T0)),
    "batch": lambda channel: channel.send_alerts([violation(T0), violation(T0)]),
    "resolved": lambda channel: channel.send_resolved(NOTICE),
}


@pytest.mark.parametrize("kind", SENDS)
def test_signed_requests_verify_with_standard_webhooks(receiver: HttpReceiver, kind: str) -> None:
    channel = channel_for(receiver.url("/hook"), secret=SECRET)
    assert run(channel, lambda: SENDS[kind](channel)) is True
    [request] = receiver.requests
    assert Webhook(SECRET).verify(request.body, request.headers) == json.loads(request.body)
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    if kind != "batch":
        assert request.headers["webhook-id"] == parse(request).get_id()


def test_an_altered_body_or_another_secret_fails_verification(receiver: HttpReceiver) -> None:
    channel = channel_for(receiver.url("/hook"), secret=SECRET)
    assert run(channel, lambda: channel.send_alert(violation(T0))) is True
    [request] = receiver.requests
    altered = request.body.replace(b'"severity": "error"', b'"severity": "info"')
    assert altered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(altered, request.headers)
    other = "whsec_" + base64.b64encode(bytes(32)).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_the_signature_is_the_standard_one_for_a_fixed_message() -> None:
    at = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    body = b'{"a": 1}'
    expected = Webhook(SECRET).sign("msg_1", at, body)
    assert signature(KEY, "msg_1", int(at.timestamp()), body) == expected


def test_extra_headers_are_sent(receiver: HttpReceiver) -> None:
    headers = {"Authorization": "Bearer t0k3n-value", "X-Team": "data-platform"}
    channel = channel_for(receiver.url("/hook"), headers=headers)
    assert run(channel, lambda: channel.send_alert(violation(T0))) is True
    [request] = receiver.requests
    assert request.headers["authorization"] == "Bearer t0k3n-value"
    assert request.headers["x-team"] == "data-platform"
    assert request.headers["content-type"] == "application/cloudevents+json"
    assert request.headers["user-agent"] == "floe-alert-webhook/0.1.0"
    assert "t0k3n-value" not in channel.scrub("header Authorization: Bearer t0k3n-value")


def test_a_429_retried_once_carries_the_same_valid_signature(receiver: HttpReceiver) -> None:
    receiver.respond(Answer(429, {"Retry-After": "1"}), Answer(200))
    channel = channel_for(receiver.url("/hook"), secret=SECRET, timeout_seconds=3)
    assert run(channel, lambda: channel.send_alert(violation(T0))) is True
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-signature"] == second.headers["webhook-signature"]
    Webhook(SECRET).verify(second.body, second.headers)


def _everything_logged(records: list[logging.LogRecord]) -> str:
    """Every message, raw argument and exception text of ``records``, as one string."""
    parts: list[str] = []
    for record in records:
        parts += [record.getMessage(), str(record.msg), repr(record.args), repr(record.__dict__)]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


def _assert_no_secret(text: str) -> None:
    for secret in (SECRET_PATH, SECRET, SECRET.removeprefix("whsec_"), "s3cr3tP4thV4lue"):
        assert secret not in text


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        pytest.param(Answer(500), 500, id="500"),
        pytest.param(Answer(delay=3), None, id="hang"),
        pytest.param(Answer(429, {"Retry-After": "120"}), 429, id="429-retry-after"),
        pytest.param(None, None, id="refused"),
    ],
)
def test_failures_are_false_quick_and_leak_no_secret(
    receiver: HttpReceiver,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    answer: Answer | None,
    status: int | None,
) -> None:
    if answer is None:
        url = f"http://127.0.0.1:{closed_port}/{SECRET_PATH}"
    else:
        receiver.respond(answer)
        url = receiver.url(f"/{SECRET_PATH}")
    channel = channel_for(url, secret=SECRET, timeout_seconds=1)
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG):
        sent = run(channel, lambda: channel.send_alert(violation(T0)))
        delivery: Delivery = run(channel, lambda: channel.deliver([violation(T0)]))
    elapsed = time.monotonic() - started
    assert sent is False
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, status, 1)
    assert elapsed < 2 * 1.5  # two deliveries, each within its 1 s timeout
    failures = [r for r in caplog.records if "delivery failed" in r.getMessage()]
    assert len(failures) == 2
    _assert_no_secret(delivery.reason)
    _assert_no_secret(_everything_logged(caplog.records))
    _assert_no_secret(caplog.text)


def test_httpx_request_log_line_has_the_url_masked(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    channel = channel_for(receiver.url(f"/{SECRET_PATH}"))
    with caplog.at_level(logging.DEBUG):
        assert run(channel, lambda: channel.send_alert(violation(T0))) is True
    [line] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert line.startswith("HTTP Request: POST ")
    assert "***" in line
    _assert_no_secret(_everything_logged(caplog.records))


def test_a_shorter_secret_of_another_channel_does_not_unmask_this_one(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    other = channel_for(receiver.url("/hook"))  # its path is a prefix of the secret path
    channel = channel_for(receiver.url(f"/{SECRET_PATH}"))
    with caplog.at_level(logging.INFO):
        assert run(channel, lambda: channel.send_alert(violation(T0))) is True
    assert other.secrets()
    _assert_no_secret(_everything_logged(caplog.records))


def test_the_url_is_masked_as_httpx_writes_it_too() -> None:
    channel = channel_for(f"HTTPS://Hooks.Example.COM:443/{SECRET_PATH}?code=abc123")
    logged = f"HTTP Request: POST https://hooks.example.com/{SECRET_PATH}?code=abc123 200"
    scrubbed = channel.scrub(logged)
    _assert_no_secret(scrubbed)
    assert "abc123" not in scrubbed


def test_a_redirect_is_not_followed_and_is_a_failure() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://elsewhere.invalid/"})

    channel = WebhookAlertChannel(
        {"url": "https://hooks.example.com/x"}, transport=httpx.MockTransport(handler)
    )
    delivery = run(channel, lambda: channel.deliver([violation(T0)]))
    assert (delivery.ok, delivery.status, len(seen)) == (False, 302, 1)


U = "https://hooks.example.com/x"
INVALID_CONFIGS = {
    "missing-url": ({}, "config.url: Field required"),
    "no-scheme": ({"url": "hooks.example.com/x"}, "config.url: "),
    "not-http": ({"url": "ftp://hooks.example.com/x"}, "config.url: "),
    "no-prefix": ({"url": U, "secret": "hunter2hunter2"}, "config.secret: "),
    "not-base64": ({"url": U, "secret": "whsec_not*base64!"}, "config.secret: "),
    "too-short": ({"url": U, "secret": "whsec_c2hvcnQ="}, "config.secret: "),
    "reserved-header": ({"url": U, "headers": {"Content-Type": "text/plain"}}, "config.headers: "),
    "ce-header": ({"url": U, "headers": {"ce-type": "x"}}, "config.headers: "),
    "header-injection": ({"url": U, "headers": {"X-A": "a\r\nB: b"}}, "config.headers: "),
    "timeout": ({"url": U, "timeout_seconds": 0}, "config.timeout_seconds: "),
    "unknown-field": ({"url": U, "token": "x"}, "config.token: "),
}


@pytest.mark.parametrize(("config", "field"), INVALID_CONFIGS.values(), ids=INVALID_CONFIGS)
def test_invalid_configs_are_reported_by_field(
    config: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = WebhookAlertChannel(config)
    problems = channel.validate_config()
    assert len(problems) == 1
    assert problems[0].startswith(field)
    for value in ("hunter2hunter2", "not*base64!", "c2hvcnQ=", "hooks.example.com/x"):
        assert value not in problems[0]
    assert channel.health_check().state is HealthState.UNHEALTHY
    assert run(channel, lambda: channel.send_alert(violation(T0))) is False
    assert "hunter2hunter2" not in caplog.text


def test_a_valid_config_is_healthy_but_not_probed(closed_port: int) -> None:
    channel = WebhookAlertChannel({"url": f"http://127.0.0.1:{closed_port}/x", "secret": SECRET})
    assert channel.validate_config() == []
    health = channel.health_check(timeout=1)
    assert health.state is HealthState.HEALTHY
    assert "not probed" in health.message
    assert health.details == {"probed": False}


def test_the_channel_is_registered_as_webhook() -> None:
    [entry] = [e for e in entry_points(group="floe.alert_channels") if e.name == "webhook"]
    assert entry.load() is WebhookAlertChannel
    assert PluginRegistry().get(PluginType.ALERT_CHANNEL, "webhook") is WebhookAlertChannel
    assert (WebhookAlertChannel.name, WebhookAlertChannel.version) == ("webhook", "0.1.0")
