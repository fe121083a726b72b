"""What the state database remembers of a contract, read once before a run is judged.

The monitor reads this before escalating a run's breaches and computing its SLA statuses, so
both rest on the persisted history, not on what one process happens to have seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from floe_core.config import SeverityThresholds
from floe_core.events import ViolationType

if TYPE_CHECKING:
    from floe_core.state.run_store import HistoryPoint, ProbePoint, RunStore

#: The rolling window of SLA compliance, violation counts and availability uptime.
SLA_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TypeHistory:
    """The persisted past of one check type of one contract (this run not included)."""

    runs: list[HistoryPoint] = field(default_factory=list)  # within SLA_WINDOW, oldest first
    consecutive_failures: int = 0  # failed runs since the last passing one
    breaches_24h: int = 0  # breaching runs within SLA_WINDOW
    probes: list[ProbePoint] = field(default_factory=list)  # availability only


@dataclass(frozen=True)
class RunHistory:
    """Everything a run needs from the database, per check type."""

    critical_breaches: dict[ViolationType, int] = field(default_factory=dict)
    types: dict[ViolationType, TypeHistory] = field(default_factory=dict)


async def load_history(
    store: RunStore,
    contract_name: str,
    types: Iterable[ViolationType],
    now: datetime,
    thresholds: SeverityThresholds,
    *,
    probes: Sequence[ProbePoint] | None = None,
) -> RunHistory:
    """The history of ``types`` for ``contract_name`` as it stands before the run at ``now``.

    ``probes``: the persisted availability probes since ``now - SLA_WINDOW``, if the caller
    read them before the run (to seed the availability window); else they are read here.
    """
    since = now - SLA_WINDOW
    critical_since = now - timedelta(hours=thresholds.critical_window_hours)
    kinds = list(types)
    breaches = await store.breaches_by_type(contract_name, since)
    critical = (
        breaches
        if critical_since == since
        else await store.breaches_by_type(contract_name, critical_since)
    )
    runs = await store.check_histories(contract_name, kinds, since)
    streaks = await store.consecutive_failures_by_type(contract_name, kinds)
    past_probes: list[ProbePoint] = []
    if ViolationType.AVAILABILITY in kinds:
        past_probes = (
            list(probes) if probes is not None else await store.probe_history(contract_name, since)
        )
    return RunHistory(
        critical_breaches={k: critical.get(k, 0) for k in kinds},
        types={
            k: TypeHistory(
                runs=runs[k],
                consecutive_failures=streaks.get(k, 0),
                breaches_24h=breaches.get(k, 0),
                probes=past_probes if k is ViolationType.AVAILABILITY else [],
            )
            for k in kinds
        },
    )
