"""HttpAlertChannel.post against a real HTTP server on 127.0.0.1: bounded, fire and forget."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest

from floe_core.events import ContractViolationEvent
from floe_core.plugins.http_channel import Delivery, HttpAlertChannel, retry_after
from floe_core.testing.alerts import run_and_close
from floe_core.testing.receiver import Answer, HttpReceiver


class PostChannel(HttpAlertChannel):
    name = "post"
    version = "1.0"
    floe_api_version = "1.0"

    def validate_config(self) -> list[str]:
        return []

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return (await self.post(self.config["url"], content=b"{}")).ok


def post(channel: HttpAlertChannel, url: str) -> Delivery:
    job = channel.post(url, content=b'{"a": 1}', headers={"X-Test": "yes"})
    return run_and_close(channel, job)


def test_a_delivery_is_one_post_with_its_body_and_headers() -> None:
    with HttpReceiver() as receiver:
        delivery = post(PostChannel({"timeout_seconds": 2}), receiver.url("/hook"))
        [request] = receiver.requests
    assert delivery == Delivery(True, 200, "", 1)
    assert (request.method, request.path, request.json()) == ("POST", "/hook", {"a": 1})
    assert request.headers["x-test"] == "yes"


def test_a_server_error_is_a_failure_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(500))
        delivery = post(PostChannel(), receiver.url("/hook?token=abcdef123"))
        assert len(receiver.requests) == 1
    assert (delivery.ok, delivery.status, delivery.reason) == (
        False,
        500,
        "HTTP 500 Internal Server Error",
    )
    assert "abcdef123" not in caplog.text


def test_a_server_that_hangs_is_given_up_at_the_timeout() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(delay=3))
        started = time.monotonic()
        delivery = post(PostChannel({"timeout_seconds": 0.5}), receiver.url())
        elapsed = time.monotonic() - started
    assert (delivery.ok, delivery.reason) == (False, "no answer within 0.5 s")
    assert elapsed < 1.5


def test_refused_connections_fail_with_the_secret_masked(closed_port: int) -> None:
    secret_url = f"http://user:hunter22@127.0.0.1:{closed_port}/hook"
    delivery = post(PostChannel({"url": secret_url}), secret_url)
    assert not delivery.ok
    assert delivery.status is None
    assert delivery.reason.startswith("ConnectError")
    assert "hunter22" not in delivery.reason


def test_a_429_is_retried_once_when_retry_after_fits_in_the_timeout() -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(429, {"Retry-After": "1"}), Answer(202))
        delivery = post(PostChannel({"timeout_seconds": 3}), receiver.url())
        first, second = receiver.requests
    assert delivery == Delivery(True, 202, "", 2)
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize("after", ["5", "soon"])
def test_a_429_is_not_retried_when_retry_after_does_not_fit_or_is_unreadable(after: str) -> None:
    with HttpReceiver() as receiver:
        receiver.respond(Answer(429, {"Retry-After": after}))
        delivery = post(PostChannel({"timeout_seconds": 2}), receiver.url())
        assert len(receiver.requests) == 1
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, 429, 1)


def test_an_injected_transport_is_used_and_a_passed_client_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    assert post(PostChannel(transport=httpx.MockTransport(handler)), "http://x.invalid/").ok
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    channel = PostChannel(client=client)
    assert post(channel, "http://x.invalid/").ok
    assert not client.is_closed
    assert len(seen) == 2


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now


def test_failures_are_logged_with_structured_fields(caplog: pytest.LogCaptureFixture) -> None:
    with HttpReceiver() as receiver, caplog.at_level(logging.WARNING):
        receiver.respond(Answer(503))
        post(PostChannel(), receiver.url())
    [record] = [r for r in caplog.records if r.name == "floe_core.plugins.http_channel"]
    fields: Any = record.__dict__
    assert (fields["channel"], fields["http_status"], fields["attempts"]) == ("post", 503, 1)
