"""The alert router on both state backends, delivering over real HTTP to local receivers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from floe_core.alerting.channels import ConfiguredChannel
from floe_core.alerting.router import AlertOutcome, AlertRouter
from floe_core.config import AlertChannelRoutingRule, AlertConfig
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.http_channel import HttpAlertChannel
from floe_core.state.alerts import AlertLedger
from floe_core.state.engine import open_state
from floe_core.testing.receiver import Answer, HttpReceiver
from tests._factories import T0, Clock, violation

INFO, WARNING, ERROR, CRITICAL = (
    ViolationSeverity.INFO,
    ViolationSeverity.WARNING,
    ViolationSeverity.ERROR,
    ViolationSeverity.CRITICAL,
)
FRESHNESS, DRIFT = ViolationType.FRESHNESS, ViolationType.SCHEMA_DRIFT
CHECKED = ("freshness", "schema_drift")


class ReceiverChannel(HttpAlertChannel):
    """Posts each grouped delivery, and each resolved notice, as JSON to ``config["url"]``."""

    name = "receiver"
    version = "1.0"
    floe_api_version = "1.0"

    def validate_config(self) -> list[str]:
        return []

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        body = [e.model_dump(mode="json") for e in events]
        return (await self.post(self.config["url"], content=json.dumps(body).encode())).ok

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        body = {"resolved": notice.model_dump(mode="json")}
        return (await self.post(self.config["url"], content=json.dumps(body).encode())).ok


@dataclass
class Setup:
    """Receivers by channel name, the ledger's URL, and a clock the test moves."""

    receivers: dict[str, HttpReceiver]
    url: str
    clock: Clock

    def channel(
        self, name: str, *, send_resolved: bool = False, **config: Any
    ) -> ConfiguredChannel:
        plugin = ReceiverChannel({"url": self.receivers[name].url(f"/{name}"), **config})
        return ConfiguredChannel(name, plugin, send_resolved)

    def route(
        self,
        channels: Sequence[ConfiguredChannel],
        config: AlertConfig,
        events: Sequence[ContractViolationEvent],
        checked: Sequence[str] = CHECKED,
    ) -> list[AlertOutcome]:
        async def run() -> list[AlertOutcome]:
            engine = await open_state(self.url, auto_upgrade=True)
            try:
                router = AlertRouter(channels, config, ledger=AlertLedger(engine), clock=self.clock)
                return await router.route("orders", "1.2.0", events, checked)
            finally:
                for channel in channels:
                    await channel.plugin.aclose()  # type: ignore[attr-defined]
                await engine.dispose()

        return asyncio.run(run())

    def bodies(self, name: str) -> list[Any]:
        return [request.json() for request in self.receivers[name].requests]


@pytest.fixture
def setup(state_url: str) -> Iterator[Setup]:
    with ExitStack() as stack:
        receivers = {name: stack.enter_context(HttpReceiver()) for name in ("a", "b")}
        yield Setup(receivers, state_url, Clock())


def rules(*rules: tuple[str, ViolationSeverity, str | None], **config: Any) -> AlertConfig:
    return AlertConfig(
        routing_rules=[
            AlertChannelRoutingRule(channel_name=c, min_severity=s, contract_filter=f)
            for c, s, f in rules
        ],
        **config,
    )


def summary(outcomes: Sequence[AlertOutcome]) -> list[tuple[str, str, list[str], str, Any]]:
    return [(o.channel, o.kind, o.violation_types, o.status, o.reason) for o in outcomes]


def test_rules_route_by_severity_and_glob_and_a_run_is_one_delivery(setup: Setup) -> None:
    config = rules(("a", WARNING, "ord*"), ("b", ERROR, None), ("b", INFO, "payments"))
    events = [
        violation(T0, WARNING, FRESHNESS, element="updated_at"),
        violation(T0, ERROR, DRIFT, element="amount"),
        violation(T0, INFO, DRIFT, element="note"),
    ]
    outcomes = setup.route([setup.channel("a"), setup.channel("b")], config, events)

    assert summary(outcomes) == [
        ("a", "violation", ["freshness", "schema_drift"], "sent", None),
        ("b", "violation", ["schema_drift"], "sent", None),
    ]
    [to_a] = setup.bodies("a")
    assert [(e["violation_type"], e["element"]) for e in to_a] == [
        ("freshness", "updated_at"),
        ("schema_drift", "amount"),
    ]
    [to_b] = setup.bodies("b")
    assert [e["element"] for e in to_b] == ["amount"]


def test_a_repeat_is_deduplicated_until_it_is_news(setup: Setup) -> None:
    channels, config = [setup.channel("a")], rules(("a", INFO, None), dedup_window_minutes=30)
    stale = violation(T0, WARNING, FRESHNESS, element="updated_at")

    assert summary(setup.route(channels, config, [stale]))[0][3] == "sent"
    setup.clock.now += timedelta(minutes=5)
    assert summary(setup.route(channels, config, [stale])) == [
        ("a", "violation", ["freshness"], "suppressed", "dedup")
    ]
    # The severity rose (an escalation): news.
    setup.clock.now += timedelta(minutes=5)
    worse = violation(T0, CRITICAL, FRESHNESS, element="updated_at")
    assert summary(setup.route(channels, config, [worse]))[0][3] == "sent"
    # A new element (a newly drifted column) is news; the same ones again are not.
    drift = [violation(T0, ERROR, DRIFT, element="amount")]
    setup.route(channels, config, [worse, *drift])
    more = [*drift, violation(T0, ERROR, DRIFT, element="currency")]
    outcomes = setup.route(channels, config, [worse, *more])
    assert ("a", "violation", ["schema_drift"], "sent", None) in summary(outcomes)
    assert ("a", "violation", ["freshness"], "suppressed", "dedup") in summary(outcomes)
    # Once the window has passed, the same violation is sent again as a reminder.
    setup.clock.now += timedelta(minutes=31)
    assert summary(setup.route(channels, config, [worse]))[0][3] == "sent"
    assert len(setup.receivers["a"].requests) == 5


def test_dedup_window_zero_sends_every_run_up_to_the_rate_limit(setup: Setup) -> None:
    config = rules(
        ("a", INFO, None),
        dedup_window_minutes=0,
        rate_limit_per_contract=2,
        rate_limit_window_minutes=60,
    )
    stale = [violation(T0, ERROR, FRESHNESS)]
    statuses = []
    for _ in range(3):
        statuses += [(o.status, o.reason) for o in setup.route([setup.channel("a")], config, stale)]
        setup.clock.now += timedelta(minutes=10)
    assert statuses == [("sent", None), ("sent", None), ("suppressed", "rate_limit")]
    setup.clock.now += timedelta(minutes=60)
    assert setup.route([setup.channel("a")], config, stale)[0].status == "sent"


def test_a_resolved_notice_goes_once_to_channels_that_want_it(setup: Setup) -> None:
    channels = [setup.channel("a", send_resolved=True), setup.channel("b")]
    config = rules(("a", ERROR, None), ("b", ERROR, None))
    setup.route(channels, config, [violation(T0, ERROR, FRESHNESS, element="updated_at")])

    # Checked again, nothing found: resolved (to a only); a run that did not check
    # freshness says nothing about it.
    assert setup.route(channels, config, [], checked=["schema_drift"]) == []
    outcomes = setup.route(channels, config, [])
    assert summary(outcomes) == [("a", "resolved", ["freshness"], "sent", None)]
    [_, notice] = setup.bodies("a")
    assert notice["resolved"]["violation_type"] == "freshness"
    assert notice["resolved"]["elements"] == ["updated_at"]
    assert setup.route(channels, config, []) == []  # sent once
    assert len(setup.receivers["b"].requests) == 1


def test_a_silence_records_but_does_not_send(setup: Setup) -> None:
    config = rules(("a", INFO, None))

    async def silence() -> str:
        engine = await open_state(setup.url, auto_upgrade=True)
        try:
            ledger = AlertLedger(engine)
            made = await ledger.add_silence("ord*", "freshness", T0, T0 + timedelta(hours=2), "x")
            assert [s.id for s in await ledger.silences(active_at=T0)] == [made.id]
            return made.id
        finally:
            await engine.dispose()

    silence_id = asyncio.run(silence())
    events = [violation(T0, ERROR, FRESHNESS), violation(T0, ERROR, DRIFT)]
    outcomes = setup.route([setup.channel("a")], config, events)
    assert summary(outcomes) == [
        ("a", "violation", ["freshness"], "suppressed", "silenced"),
        ("a", "violation", ["schema_drift"], "sent", None),
    ]
    assert [e["violation_type"] for e in setup.bodies("a")[0]] == ["schema_drift"]

    async def expire() -> bool:
        engine = await open_state(setup.url, auto_upgrade=True)
        try:
            return await AlertLedger(engine).expire_silence(silence_id, setup.clock.now)
        finally:
            await engine.dispose()

    assert asyncio.run(expire())
    setup.clock.now += timedelta(minutes=1)
    assert setup.route([setup.channel("a")], config, events[:1])[0].status == "sent"


def test_a_failed_delivery_does_not_block_the_others_and_is_tried_again(
    setup: Setup, closed_port: int
) -> None:
    broken = ConfiguredChannel(
        "broken", ReceiverChannel({"url": f"http://127.0.0.1:{closed_port}/x"}), False
    )
    hanging = setup.channel("b", timeout_seconds=0.5)
    setup.receivers["b"].respond(Answer(delay=5))
    config = rules(("a", INFO, None), ("broken", INFO, None), ("b", INFO, None))
    events = [violation(T0, ERROR, FRESHNESS)]

    started = time.monotonic()
    outcomes = setup.route([broken, hanging, setup.channel("a")], config, events)
    elapsed = time.monotonic() - started
    arrived = setup.receivers["a"].requests[0].at - started

    by_channel = {o.channel: o for o in outcomes}
    assert by_channel["a"].status == "sent"
    assert by_channel["broken"].status == "failed"
    assert by_channel["broken"].reason == "the channel reported a failed delivery"
    assert by_channel["b"].status == "failed"
    # Not held up by the hanging channel (5 s), nor the hanging channel waited for past its
    # timeout (0.5 s, plus the router's margin of 1 s); the rest is opening the database.
    assert arrived < 2.5, "the working channel waited for the others"
    assert elapsed < 4
    # The failures are not remembered as sent: the next run tries them again.
    setup.receivers["b"].respond(Answer())
    again = {o.channel: o.status for o in setup.route([broken, hanging], config, events)}
    assert again == {"broken": "failed", "b": "sent"}


def test_state_survives_a_new_process_and_two_routers_never_both_send(setup: Setup) -> None:
    config = rules(("a", INFO, None))
    events = [violation(T0, ERROR, FRESHNESS)]

    async def race() -> list[AlertOutcome]:
        engines = [await open_state(setup.url, auto_upgrade=True) for _ in range(2)]
        try:
            routers = [
                AlertRouter([setup.channel("a")], config, ledger=AlertLedger(e), clock=setup.clock)
                for e in engines
            ]
            found = await asyncio.gather(
                *(r.route("orders", "1.2.0", events, CHECKED) for r in routers)
            )
            return [o for outcomes in found for o in outcomes]
        finally:
            for engine in engines:
                await engine.dispose()

    outcomes = asyncio.run(race())
    assert sorted((o.status, o.reason) for o in outcomes) == [
        ("sent", None),
        ("suppressed", "dedup"),
    ]
    assert len(setup.receivers["a"].requests) == 1
    # A new router (a new process) on the same database remembers it.
    assert setup.route([setup.channel("a")], config, events)[0].reason == "dedup"


def test_without_a_ledger_every_routed_violation_is_sent() -> None:
    with HttpReceiver() as receiver:
        channel = ConfiguredChannel("a", ReceiverChannel({"url": receiver.url()}), True)
        router = AlertRouter([channel], rules(("a", WARNING, None)))

        async def run() -> list[AlertOutcome]:
            try:
                events = [violation(T0, WARNING), violation(T0, INFO, DRIFT)]
                first = await router.route("orders", "1.2.0", events, CHECKED)
                return first + await router.route("orders", "1.2.0", events, CHECKED)
            finally:
                await channel.plugin.aclose()  # type: ignore[attr-defined]

        outcomes = asyncio.run(run())
        assert [o.status for o in outcomes] == ["sent", "sent"]
        assert [len(r.json()) for r in receiver.requests] == [1, 1]


def test_runs_of_many_contracts_are_decided_in_one_turn(setup: Setup) -> None:
    from floe_core.alerting.router import ContractRun

    config = rules(("a", INFO, None))

    def run_of(name: str, severity: ViolationSeverity) -> ContractRun:
        event = violation(T0, severity, FRESHNESS).model_copy(update={"contract_name": name})
        return ContractRun(name, "1.0.0", [event], CHECKED)

    async def route(runs: list[ContractRun]) -> list[list[AlertOutcome]]:
        engine = await open_state(setup.url, auto_upgrade=True)
        channel = setup.channel("a")
        try:
            router = AlertRouter([channel], config, ledger=AlertLedger(engine), clock=setup.clock)
            return await router.route_many(runs)
        finally:
            await channel.plugin.aclose()
            await engine.dispose()

    first = asyncio.run(route([run_of(n, WARNING) for n in ("orders", "payments", "refunds")]))
    assert [[o.status for o in outcomes] for outcomes in first] == [["sent"]] * 3
    assert len(setup.receivers["a"].requests) == 3
    # Again, one of them now worse: only that one is news.
    again = asyncio.run(
        route([run_of("orders", WARNING), run_of("payments", CRITICAL), run_of("refunds", WARNING)])
    )
    assert [[(o.status, o.reason) for o in outcomes] for outcomes in again] == [
        [("suppressed", "dedup")],
        [("sent", None)],
        [("suppressed", "dedup")],
    ]
    with pytest.raises(ValueError, match="one run per contract"):
        asyncio.run(route([run_of("orders", WARNING), run_of("orders", ERROR)]))


def test_every_outcome_is_logged_with_structured_fields(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    config = rules(("a", INFO, None))
    events = [violation(T0, ERROR, FRESHNESS)]
    with caplog.at_level(logging.INFO, logger="floe_core.alerting.router"):
        setup.route([setup.channel("a")], config, events)
        setup.route([setup.channel("a")], config, events)
    records = [r for r in caplog.records if r.name == "floe_core.alerting.router"]
    fields = [(r.alert_channel, r.alert_status, r.contract_name) for r in records]  # type: ignore[attr-defined]
    assert fields == [("a", "sent", "orders"), ("a", "suppressed", "orders")]
    assert records[1].alert_reason == "dedup"  # type: ignore[attr-defined]
