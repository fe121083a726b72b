"""One behaviour suite for every HTTP alert channel distribution, against real local servers.

Each channel is found through its ``floe.alert_channels`` entry point, pointed at an
``HttpReceiver`` on 127.0.0.1, and must: deliver a group, deliver a resolved notice, say
False (never raise, never hang past its timeout) when the receiver refuses, fails or hangs,
retry a 429 once, reject an empty config field by field, and never let its secret reach a
log record or a failure reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from floe_core.events import ResolvedNotice, ViolationSeverity, ViolationType
from floe_core.plugins.alert_channel import AlertChannelPlugin
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.alerts import run_and_close
from floe_core.testing.receiver import Answer, HttpReceiver
from tests._factories import T0, violation

SECRET = "s3cr3t-Tok3n-9f8e7d"


@dataclass(frozen=True)
class Case:
    """How to point one channel type at a receiver, with ``SECRET`` somewhere in its config."""

    type: str
    config: Callable[[HttpReceiver], dict[str, Any]]


CASES = [
    Case("webhook", lambda r: {"url": r.url(f"/hooks/{SECRET}"), "secret": None}),
    Case("slack", lambda r: {"webhook_url": r.url(f"/services/T000/B000/{SECRET}")}),
    Case("pagerduty", lambda r: {"routing_key": SECRET, "events_url": r.url("/v2/enqueue")}),
    Case("alertmanager", lambda r: {"url": f"http://floe:{SECRET}@127.0.0.1:{r.port}"}),
]
by_case = pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])


def channel_of(case: Case, receiver: HttpReceiver, **extra: Any) -> AlertChannelPlugin:
    config = {k: v for k, v in case.config(receiver).items() if v is not None}
    plugin_class = PluginRegistry().get(PluginType.ALERT_CHANNEL, case.type)
    plugin = plugin_class({**config, "timeout_seconds": 1, **extra})  # type: ignore[call-arg]
    assert isinstance(plugin, AlertChannelPlugin)
    return plugin


GROUP = [
    violation(T0, ViolationSeverity.CRITICAL, ViolationType.SCHEMA_DRIFT, element="currency"),
    violation(T0, ViolationSeverity.ERROR, ViolationType.SCHEMA_DRIFT, element="amount"),
    violation(T0, ViolationSeverity.WARNING, ViolationType.FRESHNESS, element="updated_at"),
]
NOTICE = ResolvedNotice(
    contract_name="orders",
    contract_version="1.2.0",
    violation_type=ViolationType.FRESHNESS,
    elements=["updated_at"],
    alerted_at=T0,
    resolved_at=T0 + timedelta(minutes=20),
    message="freshness of orders is resolved",
)


@pytest.fixture
def secrets_watch(caplog: pytest.LogCaptureFixture) -> Callable[[], None]:
    """Every log record at DEBUG and up is kept; calling the fixture asserts none holds SECRET."""
    caplog.set_level(logging.DEBUG)

    def check() -> None:
        for record in caplog.records:
            text = record.getMessage() + str(record.__dict__)
            assert SECRET not in text, f"{record.name} logged the secret: {record.getMessage()}"

    return check


@by_case
def test_a_group_and_a_resolved_notice_are_delivered(
    case: Case, secrets_watch: Callable[[], None]
) -> None:
    with HttpReceiver() as receiver:
        channel = channel_of(case, receiver)
        assert channel.validate_config() == []
        assert run_and_close(channel, channel.send_alerts(GROUP)) is True
        delivered = len(receiver.requests)
        assert delivered >= 1
        assert all(b"orders" in request.body for request in receiver.requests)
        channel = channel_of(case, receiver)
        assert run_and_close(channel, channel.send_resolved(NOTICE)) is True
        assert len(receiver.requests) > delivered
    secrets_watch()


@by_case
@pytest.mark.parametrize(
    "answer", [Answer(500), Answer(400), Answer(delay=4)], ids=["500", "400", "hangs"]
)
def test_a_failing_receiver_is_false_within_the_timeout(
    case: Case, answer: Answer, secrets_watch: Callable[[], None]
) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(answer)
        channel = channel_of(case, receiver)
        started = time.monotonic()
        assert run_and_close(channel, channel.send_alerts(GROUP)) is False
        assert time.monotonic() - started < 2.5
    secrets_watch()


@by_case
def test_a_refused_connection_is_false(
    case: Case, closed_port: int, secrets_watch: Callable[[], None]
) -> None:
    with HttpReceiver() as receiver:
        config = case.config(receiver)
    closed = {
        key: value.replace(f":{receiver.port}", f":{closed_port}")
        if isinstance(value, str)
        else value
        for key, value in config.items()
        if value is not None
    }
    plugin_class = PluginRegistry().get(PluginType.ALERT_CHANNEL, case.type)
    channel = plugin_class({**closed, "timeout_seconds": 1})  # type: ignore[call-arg]
    assert isinstance(channel, AlertChannelPlugin)
    assert run_and_close(channel, channel.send_alerts(GROUP)) is False
    secrets_watch()


@by_case
def test_a_429_with_retry_after_is_tried_once_more(case: Case) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(429, {"Retry-After": "0"}), Answer(202))
        channel = channel_of(case, receiver, timeout_seconds=3)
        assert run_and_close(channel, channel.send_alert(GROUP[0])) is True
        assert len(receiver.requests) == 2


@by_case
def test_an_empty_config_is_rejected_field_by_field(case: Case) -> None:
    plugin_class = PluginRegistry().get(PluginType.ALERT_CHANNEL, case.type)
    problems = plugin_class({}).validate_config()  # type: ignore[call-arg, attr-defined]
    assert problems
    assert all(problem.startswith("config") for problem in problems)
    with HttpReceiver() as receiver:
        channel = channel_of(case, receiver)
    assert SECRET not in channel.scrub(f"failed: {case.config(receiver)}")
