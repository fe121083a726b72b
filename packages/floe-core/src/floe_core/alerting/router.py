"""The alert router: which channel hears of which violation of a contract run, and when not.

For one contract run, per configured channel:

1. **Routing.** The run's events that a routing rule of the channel selects (at least its
   ``min_severity``, contract matching its ``contract_filter`` glob).
2. **Silences.** Events a silence in force covers are recorded, not sent.
3. **Dedup.** A violation type already alerted to the channel within
   ``dedup_window_minutes`` is suppressed, unless its severity rose or its set of elements
   changed (a newly drifted column is news). ``0`` turns deduplication off.
4. **Rate limit.** At most ``rate_limit_per_contract`` notifications per contract and channel
   in ``rate_limit_window_minutes``.
5. **Grouping.** What is left goes out as one notification (``send_alerts``).
6. **Resolved.** A type that was alerted and that this run checked without finding anything
   is over: channels with ``send_resolved`` get one notice (never rate-limited, sent once).

A channel that deduplicates by itself (Alertmanager) gets every routed violation on every run.
Decisions are made and claimed in one locked ledger turn per contract run, so another
process deciding about the same contract waits and then finds them claimed. Deliveries run
concurrently, each bounded by its channel's timeout plus a margin; a failed delivery is
recorded and leaves the types free to be sent again by the next run. Without a ledger (no
state database) nothing is deduplicated: every routed violation is sent, which is louder but
never silent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from floe_core.alerting.channels import ConfiguredChannel
from floe_core.config import AlertConfig
from floe_core.events import ContractViolationEvent, ResolvedNotice, ViolationSeverity
from floe_core.state.alerts import AlertLedger, ChannelState, LedgerTurn, Silence

log = logging.getLogger(__name__)
Kind = Literal["violation", "resolved"]
Status = Literal["sent", "suppressed", "failed"]
#: Time a delivery may take beyond its channel's own timeout before the router gives up on it.
_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class AlertOutcome:
    """What became of one notification to one channel."""

    channel: str
    kind: Kind
    violation_types: list[str]
    status: Status
    reason: str | None = None  # dedup, rate_limit, silenced, or why a delivery failed

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``floe sla check --alert --format json``'s ``alerts``."""
        return {
            "channel": self.channel,
            "kind": self.kind,
            "violation_types": self.violation_types,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ContractRun:
    """What one run of a contract found: its violations, and the types it measured."""

    contract_name: str
    contract_version: str
    events: Sequence[ContractViolationEvent]
    checked_types: tuple[str, ...]  # measured (passed or failed): only these can be resolved
    config: AlertConfig | None = None  # the contract's own, when it overrides the router's


@dataclass
class _Plan:
    """What one channel is to be sent for one run (routed, then decided), and what became of it."""

    channel: ConfiguredChannel
    contract: str
    events: list[ContractViolationEvent] = field(default_factory=list)
    delivery_id: uuid.UUID | None = None
    notices: list[tuple[ResolvedNotice, uuid.UUID | None]] = field(default_factory=list)
    outcomes: list[AlertOutcome] = field(default_factory=list)
    settled: list[tuple[uuid.UUID | None, Status, str | None]] = field(default_factory=list)


class AlertRouter:
    """Routes the violations of contract runs to the configured channels."""

    def __init__(
        self,
        channels: Sequence[ConfiguredChannel],
        config: AlertConfig | None = None,
        *,
        ledger: AlertLedger | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.channels = list(channels)
        self.config = config or AlertConfig()
        self.ledger = ledger
        self.clock = clock

    def selects(self, channel: str, event: ContractViolationEvent, config: AlertConfig) -> bool:
        """Whether a routing rule of ``channel`` selects ``event``."""
        return any(
            rule.channel_name == channel
            and event.severity.rank >= rule.min_severity.rank
            and fnmatchcase(event.contract_name, rule.contract_filter or "*")
            for rule in config.routing_rules
        )

    async def route(
        self,
        contract_name: str,
        contract_version: str,
        events: Sequence[ContractViolationEvent],
        checked_types: Iterable[str],
        *,
        config: AlertConfig | None = None,
    ) -> list[AlertOutcome]:
        """Decide, send and record the notifications of one contract run.

        ``checked_types`` are the violation types the run measured (passed or failed): only
        those can be found resolved. ``config`` overrides the router's for this contract.
        """
        run = ContractRun(contract_name, contract_version, events, tuple(checked_types), config)
        [outcomes] = await self.route_many([run])
        return outcomes

    async def route_many(self, runs: Sequence[ContractRun]) -> list[list[AlertOutcome]]:
        """``route`` for several contract runs (of different contracts) at once, decided in
        one ledger turn: what a monitor finishing many checks together calls."""
        names = [run.contract_name for run in runs]
        if len(set(names)) != len(names):
            raise ValueError("route_many takes one run per contract; route the others after")
        plans = [
            [
                _Plan(
                    c,
                    run.contract_name,
                    [e for e in run.events if self.selects(c.name, e, self._config(run))],
                )
                for c in self.channels
            ]
            for run in runs
        ]
        if self.ledger is not None:
            async with self.ledger.turn(names) as turn:
                await self._decide(turn, runs, plans)
        every = [plan for run_plans in plans for plan in run_plans]
        await asyncio.gather(*(self._deliver(plan) for plan in every))
        if self.ledger is not None:
            await self._record(every)
        return [[o for plan in run_plans for o in plan.outcomes] for run_plans in plans]

    def _config(self, run: ContractRun) -> AlertConfig:
        return run.config or self.config

    async def _decide(
        self, turn: LedgerTurn, runs: Sequence[ContractRun], plans: list[list[_Plan]]
    ) -> None:
        now = self.clock()
        states = await turn.states()
        silences = await turn.silences(now)
        news_of: dict[tuple[str, str], dict[str, list[ContractViolationEvent]]] = {}
        for run, run_plans in zip(runs, plans, strict=True):
            config, present = self._config(run), {e.violation_type.value for e in run.events}
            for plan in run_plans:
                channel = plan.channel
                known = states.get((run.contract_name, channel.name), {})
                silenced = [e for e in plan.events if _silenced(e, silences)]
                if silenced:
                    _suppress(turn, plan, _types(silenced), "silenced", now)
                by_type: dict[str, list[ContractViolationEvent]] = {}
                for event in plan.events:
                    if event not in silenced:
                        by_type.setdefault(event.violation_type.value, []).append(event)
                news = {
                    kind: found
                    for kind, found in by_type.items()
                    if channel.plugin.deduplicates_itself
                    or _is_news(known.get(kind), found, now, config.dedup_window_minutes)
                }
                news_of[run.contract_name, channel.name] = news
                repeats = sorted(set(by_type) - set(news))
                if repeats:
                    _suppress(turn, plan, repeats, "dedup", now)
                plan.events = []
                # Over: alerted, checked again, nothing of that type found (at any severity).
                over = [
                    state
                    for kind, state in known.items()
                    if state.firing and kind in run.checked_types and kind not in present
                ]
                for state in over:
                    state.firing = False
                    if channel.send_resolved:
                        types = [state.violation_type]
                        delivery = turn.claim(plan.contract, channel.name, "resolved", types, now)
                        plan.notices.append((_notice(run, state, now), delivery))
                turn.save(run.contract_name, channel.name, over)

        sent: dict[int, dict[tuple[str, str], int]] = {}
        if any(news_of.values()):
            for minutes in {self._config(run).rate_limit_window_minutes for run in runs}:
                sent[minutes] = await turn.sent_since(now - timedelta(minutes=minutes))
        for run, run_plans in zip(runs, plans, strict=True):
            config = self._config(run)
            window = timedelta(minutes=config.rate_limit_window_minutes)
            for plan in run_plans:
                news = news_of[run.contract_name, plan.channel.name]
                if not news:
                    continue
                types = sorted(news)
                counts = sent[config.rate_limit_window_minutes]
                count = counts.get((run.contract_name, plan.channel.name), 0)
                if not plan.channel.plugin.deduplicates_itself and (
                    count >= config.rate_limit_per_contract
                ):
                    _suppress(turn, plan, types, "rate_limit", now)
                    continue
                plan.events = [e for kind in types for e in news[kind]]
                plan.delivery_id = turn.claim(
                    plan.contract, plan.channel.name, "violation", types, now
                )
                firing = [_firing(kind, found, now) for kind, found in news.items()]
                turn.save(run.contract_name, plan.channel.name, firing)
                turn.alerted(run.contract_name, types, now, window.total_seconds())

    async def _deliver(self, plan: _Plan) -> None:
        channel = plan.channel
        jobs: list[tuple[Kind, list[str], uuid.UUID | None, Any]] = []
        if plan.events:
            job = channel.plugin.send_alerts(plan.events)
            jobs.append(("violation", _types(plan.events), plan.delivery_id, job))
        for notice, delivery in plan.notices:
            job = channel.plugin.send_resolved(notice)
            jobs.append(("resolved", [notice.violation_type.value], delivery, job))
        for kind, types, delivery, job in jobs:
            ok, reason = await self._bounded(channel, job)
            status: Status = "sent" if ok else "failed"
            plan.outcomes.append(AlertOutcome(channel.name, kind, types, status, reason))
            log.log(
                logging.INFO if ok else logging.WARNING,
                "alert %s to %s for %s (%s): %s%s",
                kind,
                channel.name,
                plan.contract,
                ", ".join(types),
                status,
                f": {reason}" if reason else "",
                extra={
                    "alert_channel": channel.name,
                    "alert_kind": kind,
                    "alert_status": status,
                    "contract_name": plan.contract,
                    "violation_types": types,
                },
            )
            plan.settled.append((delivery, status, reason))

    async def _record(self, plans: list[_Plan]) -> None:
        """Settle the claimed notifications in one transaction; free the failed ones."""
        assert self.ledger is not None
        await self.ledger.settle(
            [(d, status, reason) for p in plans for d, status, reason in p.settled if d is not None]
        )
        for plan in plans:
            failed = [o for o in plan.outcomes if o.kind == "violation" and o.status == "failed"]
            if failed:
                types = sorted({t for o in failed for t in o.violation_types})
                await self.ledger.forget(plan.contract, plan.channel.name, types)

    async def _bounded(self, channel: ConfiguredChannel, job: Any) -> tuple[bool, str | None]:
        timeout = channel.plugin.timeout_seconds + _MARGIN_SECONDS
        try:
            ok = bool(await asyncio.wait_for(job, timeout))
        except TimeoutError:
            return False, f"no answer within {timeout:g} s"
        except Exception as exc:  # a channel's bug must not stop the others
            return False, channel.plugin.scrub(f"{type(exc).__name__}: {exc}")
        return ok, None if ok else "the channel reported a failed delivery"


def _suppress(turn: LedgerTurn, plan: _Plan, types: list[str], reason: str, now: datetime) -> None:
    turn.note(plan.contract, plan.channel.name, types, reason, now)
    plan.outcomes.append(AlertOutcome(plan.channel.name, "violation", types, "suppressed", reason))
    log.info(
        "alert violation to %s for %s (%s): suppressed: %s",
        plan.channel.name,
        plan.contract,
        ", ".join(types),
        reason,
        extra={
            "alert_channel": plan.channel.name,
            "alert_kind": "violation",
            "alert_status": "suppressed",
            "alert_reason": reason,
            "contract_name": plan.contract,
            "violation_types": types,
        },
    )


def _types(events: Iterable[ContractViolationEvent]) -> list[str]:
    return sorted({e.violation_type.value for e in events})


def _silenced(event: ContractViolationEvent, silences: Sequence[Silence]) -> bool:
    return any(
        fnmatchcase(event.contract_name, s.contract)
        and s.violation_type in (None, event.violation_type.value)
        for s in silences
    )


def _worst(events: Sequence[ContractViolationEvent]) -> ViolationSeverity:
    return max((e.severity for e in events), key=lambda s: s.rank)


def _elements(events: Sequence[ContractViolationEvent]) -> list[str]:
    return sorted({e.element for e in events if e.element})


def _is_news(
    state: ChannelState | None,
    events: Sequence[ContractViolationEvent],
    now: datetime,
    window_minutes: int,
) -> bool:
    if window_minutes <= 0 or state is None or not state.firing or state.last_sent_at is None:
        return True
    if now - state.last_sent_at >= timedelta(minutes=window_minutes):
        return True
    before = ViolationSeverity(state.severity) if state.severity else ViolationSeverity.INFO
    return _worst(events).rank > before.rank or _elements(events) != sorted(state.elements)


def _firing(kind: str, events: Sequence[ContractViolationEvent], now: datetime) -> ChannelState:
    return ChannelState(kind, True, _worst(events).value, _elements(events), now)


def _notice(run: ContractRun, state: ChannelState, now: datetime) -> ResolvedNotice:
    from floe_core.events import ViolationType

    name, version = run.contract_name, run.contract_version
    what = f" ({', '.join(state.elements)})" if state.elements else ""
    return ResolvedNotice(
        contract_name=name,
        contract_version=version,
        violation_type=ViolationType(state.violation_type),
        elements=state.elements,
        alerted_at=state.last_sent_at or now,
        resolved_at=now,
        message=f"{state.violation_type}{what} of contract {name} is resolved: the latest "
        "check found no violation",
    )
