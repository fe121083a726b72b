"""The slack channel against a real HTTP server on 127.0.0.1, every message checked against
slack_sdk's Block Kit models and the limits Slack enforces."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from floe_alert_slack import SlackAlertChannel, SlackChannelConfig
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.alerts import SAMPLE_TIME, run_and_close, sample_violation
from floe_core.testing.receiver import Answer, HttpReceiver, Received

T0 = SAMPLE_TIME
SECRET_PATH = "/services/T0FLOE/B0FLOE/s3cr3tW3bh00kT0k3n"
CRITICAL, ERROR, WARNING = (
    ViolationSeverity.CRITICAL,
    ViolationSeverity.ERROR,
    ViolationSeverity.WARNING,
)
FRESHNESS, SCHEMA_DRIFT, QUALITY = (
    ViolationType.FRESHNESS,
    ViolationType.SCHEMA_DRIFT,
    ViolationType.QUALITY,
)


def violation(*args: Any, **fields: Any) -> ContractViolationEvent:
    """The sample violation, hurting two consumers."""
    consumers = ["finance-dashboard", "ml-features"]
    return sample_violation(*args, **{"affected_consumers": consumers, **fields})


def resolved() -> ResolvedNotice:
    return ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=FRESHNESS,
        elements=["sales.orders"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="orders is fresh again",
    )


def run(channel: SlackAlertChannel, send: Callable[[SlackAlertChannel], Awaitable[bool]]) -> bool:
    return run_and_close(channel, send(channel))


def assert_slack_accepts(message: dict[str, Any]) -> None:
    """Fails for a message Slack would reject: slack_sdk's models validate each block (lengths,
    counts) and must give it back unchanged (no key or text type they do not know); the
    limits they leave out are checked here."""
    assert set(message) == {"text", "blocks"}
    assert isinstance(message["text"], str)
    assert message["text"]
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50, f"{len(blocks)} blocks"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"unknown block {block}"
        assert parsed.to_dict() == block  # to_dict() raises SlackObjectFormationError
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
        for field in block.get("fields", []):
            assert 0 < len(field["text"]) <= 2000
        for element in block.get("elements", []):
            assert element["text"]


def deliver(
    events: list[ContractViolationEvent], receiver: HttpReceiver, **config: Any
) -> tuple[bool, dict[str, Any]]:
    channel = SlackAlertChannel({"webhook_url": receiver.url(SECRET_PATH), **config})
    ok = run(channel, lambda c: c.send_alerts(events))
    [request] = receiver.requests
    message: dict[str, Any] = request.json()
    assert_slack_accepts(message)
    return ok, message


def texts(message: dict[str, Any]) -> list[str]:
    """Every text of the message's blocks, in order."""
    found: list[str] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [item["text"] for item in block.get("fields", []) + block.get("elements", [])]
    return found


def assert_no_secret(caplog: pytest.LogCaptureFixture, url: str) -> None:
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert url not in text, record
        assert "s3cr3tW3bh00kT0k3n" not in text, record


# --- the validator itself: a payload Slack would reject fails it -------------------------


@pytest.mark.parametrize(
    "block",
    [
        {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
        {"type": "header", "text": {"type": "mrkdwn", "text": "*bold*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": ""}},
        {"type": "section", "text": {"type": "markdown", "text": "x"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "colour": "red"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11},
        {"type": "banner", "text": {"type": "mrkdwn", "text": "x"}},
    ],
)
def test_the_validator_rejects_what_slack_rejects(block: dict[str, Any]) -> None:
    with pytest.raises((AssertionError, SlackObjectFormationError)):
        assert_slack_accepts({"text": "t", "blocks": [block]})


def test_the_validator_rejects_more_than_50_blocks() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(AssertionError):
        assert_slack_accepts({"text": "t", "blocks": [block] * 51})


# --- plugin identity and config ----------------------------------------------------------


def test_it_is_found_through_the_entry_point_group() -> None:
    registry = PluginRegistry()
    assert registry.get(PluginType.ALERT_CHANNEL, "slack") is SlackAlertChannel
    channel = SlackAlertChannel()
    assert (channel.name, channel.version, channel.floe_api_version) == (
        "slack",
        version("floe-alert-slack"),
        FLOE_API_VERSION,
    )
    assert SlackAlertChannel.get_config_schema() is SlackChannelConfig
    assert not SlackAlertChannel.deduplicates_itself


def test_a_valid_config_has_no_problems_and_a_default_timeout() -> None:
    channel = SlackAlertChannel({"webhook_url": "https://hooks.slack.com" + SECRET_PATH})
    assert channel.validate_config() == []
    assert channel.settings().timeout_seconds == 10
    assert channel.health_check().state is HealthState.HEALTHY


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "config.webhook_url: Field required"),
        ({"webhook_url": "hooks.slack.com" + SECRET_PATH}, "config.webhook_url: Value error"),
        ({"webhook_url": "ftp://x.example" + SECRET_PATH}, "config.webhook_url: Value error"),
        (
            {"webhook_url": "https://x.example" + SECRET_PATH, "timeout_seconds": 0},
            "config.timeout_seconds: Input should be greater than 0",
        ),
        (
            {"webhook_url": "https://x.example" + SECRET_PATH, "channel": "#data"},
            "config.channel: Extra inputs are not permitted",
        ),
    ],
)
def test_config_problems_name_the_field_but_never_the_url(
    config: dict[str, Any], problem: str
) -> None:
    channel = SlackAlertChannel(config)
    [found] = channel.validate_config()
    assert found.startswith(problem)
    assert "s3cr3t" not in found
    health = channel.health_check()
    assert health.state is HealthState.UNHEALTHY
    assert "s3cr3t" not in health.message


def test_an_invalid_config_sends_nothing_and_returns_false(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "hooks.slack.com" + SECRET_PATH
    with HttpReceiver() as receiver, caplog.at_level(logging.DEBUG):
        assert not run(SlackAlertChannel({"webhook_url": url}), lambda c: c.send_alert(violation()))
        assert receiver.requests == []
    assert "webhook_url" in caplog.text
    assert_no_secret(caplog, url)


# --- what it sends -----------------------------------------------------------------------


def test_one_violation_is_one_block_kit_message_to_the_webhook() -> None:
    event = violation(CRITICAL, element="sales.orders.updated_at")
    with HttpReceiver() as receiver:
        ok, message = deliver([event], receiver)
        [request] = receiver.requests
    assert ok
    assert (request.method, request.path) == ("POST", SECRET_PATH)
    assert request.headers["content-type"].startswith("application/json")
    header, section, context = message["blocks"]
    assert header["text"]["text"] == (
        ":rotating_light: CRITICAL: contract orders broke its freshness SLA"
    )
    assert (
        message["text"] == "CRITICAL: contract orders broke its freshness SLA: freshness critical"
    )
    assert section["text"]["text"] == ":rotating_light: *CRITICAL* freshness critical"
    assert [field["text"] for field in section["fields"]] == [
        "*Contract*\norders",
        "*Version*\n1.2.0",
        "*Violation type*\nfreshness",
        "*Severity*\ncritical",
        "*Element*\nsales.orders.updated_at",
        "*Expected*\nage &lt;= 1h",
        "*Actual*\nage 3h",
        "*Affected consumers*\nfinance-dashboard, ml-features",
    ]
    [when] = context["elements"]
    epoch = int(T0.timestamp())
    assert when["text"] == (
        f"Detected <!date^{epoch}^{{date_short_pretty}} {{time_secs}}|2024-06-01T12:00:00+00:00>"
        " · check took 0.25 s"
    )


def test_a_group_is_one_message_most_severe_first() -> None:
    events = [
        violation(WARNING, QUALITY, element="orders.amount"),
        violation(CRITICAL, SCHEMA_DRIFT, element="orders.id"),
        violation(ERROR, QUALITY, element="orders.email"),
    ]
    with HttpReceiver() as receiver:
        ok, message = deliver(events, receiver)
    assert ok
    header, *rest = message["blocks"]
    assert header["text"]["text"] == (
        ":rotating_light: CRITICAL: contract orders: 3 violations (schema_drift, quality)"
    )
    sections = [block for block in rest if block["type"] == "section"]
    assert [s["fields"][4]["text"] for s in sections] == [
        "*Element*\norders.id",
        "*Element*\norders.email",
        "*Element*\norders.amount",
    ]
    assert len(rest) == 6  # a section and a context line each, no summary


def test_200_violations_are_summarised_within_slacks_limits() -> None:
    events = [violation(ERROR, SCHEMA_DRIFT, element=f"orders.col_{i}") for i in range(100)]
    events += [violation(WARNING, QUALITY, element=f"orders.rule_{i}") for i in range(90)]
    events += [violation(CRITICAL, FRESHNESS, element=f"orders.t{i}") for i in range(10)]
    with HttpReceiver() as receiver:
        ok, message = deliver(events, receiver)
        assert len(receiver.requests) == 1
    assert ok
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert all(len(text) <= 3000 for text in texts(message))
    summary = blocks[-1]
    assert summary["type"] == "section"
    assert "fields" not in summary
    shown = sum(1 for block in blocks if "fields" in block)
    assert shown == 20
    first, _, counts_line = summary["text"]["text"].partition("\n")[0].partition(": ")
    assert first == "*…and 180 more*"
    # The 10 critical and the first 10 errors are shown in full; ties keep severity order.
    assert counts_line == "90 schema_drift, 90 quality"
    assert summary["text"]["text"].split("\n")[1].startswith("Elements: orders.col_10, ")
    assert blocks[1]["fields"][3]["text"] == "*Severity*\ncritical"


def test_long_values_are_cut_to_fit_with_an_ellipsis() -> None:
    event = violation(
        CRITICAL,
        contract_name="c" * 300,
        message="m" * 5000,
        actual_value="columns: " + "x" * 10_000,
        element="&" * 3000,
        affected_consumers=[f"consumer-{i}" for i in range(1000)],
    )
    events = [event] * 60
    with HttpReceiver() as receiver:
        ok, message = deliver(events, receiver)
    assert ok
    header = message["blocks"][0]["text"]["text"]
    assert len(header) == 150
    assert header.endswith("…")
    section = message["blocks"][1]
    assert len(section["text"]["text"]) == 3000
    assert section["fields"][6]["text"].endswith("x…")
    element = section["fields"][4]["text"]
    assert element.endswith("&amp;…")  # never cut inside an escape
    assert sum(len(text) for text in texts(message)) < 13_000


def test_mrkdwn_control_characters_are_escaped_so_nobody_is_pinged() -> None:
    event = violation(message="<!channel> see <https://evil.example|this> & that")
    with HttpReceiver() as receiver:
        _, message = deliver([event], receiver)
        body = receiver.requests[0].body.decode()
    assert "<!channel>" not in body
    assert message["blocks"][1]["text"]["text"].endswith(
        "&lt;!channel&gt; see &lt;https://evil.example|this&gt; &amp; that"
    )


def test_no_violations_send_nothing() -> None:
    with HttpReceiver() as receiver:
        channel = SlackAlertChannel({"webhook_url": receiver.url(SECRET_PATH)})
        assert run(channel, lambda c: c.send_alerts([]))
        assert receiver.requests == []


def test_resolved_is_a_short_check_mark_message() -> None:
    with HttpReceiver() as receiver:
        channel = SlackAlertChannel({"webhook_url": receiver.url(SECRET_PATH)})
        assert run(channel, lambda c: c.send_resolved(resolved()))
        [request] = receiver.requests
    message = request.json()
    assert_slack_accepts(message)
    section, context = message["blocks"]
    assert section["text"]["text"] == (
        ":white_check_mark: *Resolved*: contract orders 1.2.0, freshness\n"
        "orders is fresh again\nElements: sales.orders"
    )
    assert message["text"] == "Resolved: contract orders 1.2.0, freshness: orders is fresh again"
    assert context["elements"][0]["text"].startswith("Alerted <!date^")


# --- failures: False, never raised, the webhook URL never shown --------------------------


def failed(
    receiver_answer: Answer | None,
    caplog: pytest.LogCaptureFixture,
    url: Callable[[HttpReceiver], str],
    **config: Any,
) -> tuple[bool, list[Received], str]:
    with HttpReceiver() as receiver, caplog.at_level(logging.DEBUG):
        if receiver_answer is not None:
            receiver.respond(receiver_answer)
        webhook = url(receiver)
        channel = SlackAlertChannel({"webhook_url": webhook, **config})
        ok = run(channel, lambda c: c.send_alerts([violation()]))
        requests = list(receiver.requests)
    assert_no_secret(caplog, webhook)
    return ok, requests, webhook


def delivery_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "floe_core.plugins.http_channel"]


def test_a_server_error_is_false_with_the_url_masked(caplog: pytest.LogCaptureFixture) -> None:
    ok, requests, _ = failed(
        Answer(500, body=b"invalid_payload"), caplog, lambda r: r.url(SECRET_PATH)
    )
    assert not ok
    assert len(requests) == 1  # not retried
    [record] = delivery_failures(caplog)
    assert record.getMessage().endswith("HTTP 500 Internal Server Error")
    # httpx logs every request's URL at INFO: the channel masks it there too.
    [request_log] = [r for r in caplog.records if r.name == "httpx"]
    assert "***" in request_log.getMessage()


def test_a_webhook_that_hangs_is_given_up_at_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.monotonic()
    ok, _, _ = failed(Answer(delay=3), caplog, lambda r: r.url(SECRET_PATH), timeout_seconds=0.5)
    assert not ok
    assert time.monotonic() - started < 2.5
    [record] = delivery_failures(caplog)
    assert record.getMessage().endswith("no answer within 0.5 s")


def test_a_refused_connection_is_false(caplog: pytest.LogCaptureFixture, closed_port: int) -> None:
    ok, _, _ = failed(None, caplog, lambda _: f"http://127.0.0.1:{closed_port}{SECRET_PATH}")
    assert not ok
    [record] = delivery_failures(caplog)
    assert "ConnectError" in record.getMessage()


def test_a_429_with_retry_after_is_tried_once_more() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(429, {"Retry-After": "1"}), Answer(200, body=b"ok"))
        channel = SlackAlertChannel(
            {"webhook_url": receiver.url(SECRET_PATH), "timeout_seconds": 3}
        )
        assert run(channel, lambda c: c.send_alert(violation()))
        first, second = receiver.requests
    assert first.body == second.body
    assert second.at - first.at >= 0.95


def test_the_url_is_masked_even_as_httpx_normalises_it(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs the host in lower case and errors may quote the URL: the path, which is the
    secret part, is masked wherever it appears."""
    url = "https://HOOKS.Slack.example" + SECRET_PATH

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path != SECRET_PATH:
            return httpx.Response(404)
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    channel = SlackAlertChannel({"webhook_url": url}, transport=httpx.MockTransport(refuse))
    with caplog.at_level(logging.DEBUG):
        assert not run(channel, lambda c: c.send_alert(violation()))
    [record] = delivery_failures(caplog)
    assert record.getMessage().endswith("cannot reach https://hooks.slack.example***")
    assert_no_secret(caplog, url)
