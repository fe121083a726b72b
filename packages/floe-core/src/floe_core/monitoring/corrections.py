"""Correcting a contract's history: wrong check runs removed, and what they fed recomputed.

``correct_history`` does it all in one transaction: it removes the contract's check results in
the range (with their violations), stores again the SLA status of each check type it touched
as the monitor would have stored it after that type's last remaining measured run (removed
when none is left), and rolls the touched days up again (``floe_core.state.corrections``).
Escalation and reports then read the corrected history. Each correction is logged at WARNING:
who, when, what, and in which database (its password masked).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from floe_core._redact import error_line
from floe_core.errors import StateError
from floe_core.events import CheckResult, SLAStatus, ViolationType
from floe_core.monitoring.history import SLA_WINDOW, TypeHistory
from floe_core.monitoring.sla_status import sla_status
from floe_core.state.corrections import (
    AggregateRebuild,
    HistoryRemoval,
    HistorySelection,
    correcting,
    iso,
    last_measured,
    past_of,
    preview_removal,
    rebuild_aggregates,
    remove_history,
    replace_status,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from floe_core.state.store import StateStore

log = logging.getLogger(__name__)

#: What a database that fails mid-way raises.
_DB_ERRORS = (SQLAlchemyError, OSError)

#: Who corrected, when the login name cannot be found.
UNKNOWN_USER = "an unknown user"


@dataclass(frozen=True)
class HistoryCorrection:
    """What one correction removed and recomputed; ``corrected_by`` is None if nothing was."""

    removal: HistoryRemoval
    statuses: tuple[SLAStatus, ...] = ()  # recomputed from the remaining history
    statuses_removed: tuple[ViolationType, ...] = ()  # had one; no measured run left
    aggregates: AggregateRebuild = field(default_factory=AggregateRebuild)
    corrected_by: str | None = None
    corrected_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """What JSON shows: the selection, what was removed, what was recomputed, by whom."""
        return {
            **self.removal.to_dict(),
            "sla_status": [s.model_dump(mode="json") for s in self.statuses],
            "sla_status_removed": [k.value for k in self.statuses_removed],
            "daily_aggregates": {
                **self.aggregates.to_dict(),
                "kept": [d.isoformat() for d in self.removal.kept_aggregate_days],
            },
            "corrected_by": self.corrected_by,
            "corrected_at": iso(self.corrected_at) if self.corrected_at else None,
        }


def current_user() -> str:
    """The login name of whoever runs floe, or ``UNKNOWN_USER``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no password entry
        return UNKNOWN_USER


async def preview_correction(store: StateStore, selection: HistorySelection) -> HistoryRemoval:
    """What ``correct_history`` would remove; nothing is changed."""
    try:
        async with store.engine.connect() as conn:
            try:
                return await preview_removal(conn, selection)
            finally:
                await conn.rollback()
    except _DB_ERRORS as exc:
        raise _failed(store, selection, "read the history of", exc) from None


async def correct_history(
    store: StateStore,
    selection: HistorySelection,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> HistoryCorrection:
    """Remove ``selection`` and recompute what it fed, in one transaction; log who did it.

    ``by`` defaults to the login name. Nothing in the selection: nothing changes, nothing
    is logged.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    try:
        async with correcting(store.engine) as conn:
            removal = await remove_history(conn, selection)
            if removal.empty:
                return HistoryCorrection(removal)
            statuses, gone = await _restatus(conn, selection.contract_name, removal, at)
            aggregates = await rebuild_aggregates(conn, removal)
    except _DB_ERRORS as exc:
        raise _failed(store, selection, "correct the history of", exc) from None
    correction = HistoryCorrection(removal, statuses, gone, aggregates, by or current_user(), at)
    _log(correction, store.display)
    return correction


async def _restatus(
    conn: AsyncConnection, contract_name: str, removal: HistoryRemoval, written: datetime
) -> tuple[tuple[SLAStatus, ...], tuple[ViolationType, ...]]:
    """The SLA status of each type ``removal`` touched, stored again; the types whose status
    was removed, as no measured run of them is left."""
    statuses: list[SLAStatus] = []
    gone: list[ViolationType] = []
    for kind in removal.check_types:
        last = await last_measured(conn, contract_name, kind)
        status = await _status_after(conn, last) if last is not None else None
        had_one = await replace_status(conn, contract_name, kind, status, written)
        if status is not None:
            statuses.append(status)
        elif had_one:
            gone.append(kind)
    return tuple(statuses), tuple(gone)


async def _status_after(conn: AsyncConnection, result: CheckResult) -> SLAStatus:
    """The SLA status the monitor would have stored after ``result``, from what is stored."""
    past = await past_of(conn, result, SLA_WINDOW)
    history = TypeHistory(
        runs=past.runs,
        consecutive_failures=past.consecutive_failures,
        breaches_24h=past.breaches,
        probes=past.probes,
    )
    breached = {result.check_type} if past.breached else set()
    return sla_status(result, history, breached, result.timestamp)


def _log(correction: HistoryCorrection, database: str) -> None:
    removal = correction.removal
    selection = removal.selection
    kinds = ", ".join(k.value for k in removal.check_types)
    log.warning(
        "history of contract %s corrected by %s at %s: removed %d check results and "
        "%d violations (%s; %s .. %s) in %s",
        selection.contract_name,
        correction.corrected_by,
        iso(correction.corrected_at or datetime.now(UTC)),
        removal.result_count,
        removal.violation_count,
        kinds,
        iso(selection.since.replace(microsecond=0)),
        iso(selection.until.replace(microsecond=0)),
        database,
        extra={
            "floe.contract.name": selection.contract_name,
            "floe.state.url": database,
            "floe.correction.by": correction.corrected_by,
        },
    )


def _failed(
    store: StateStore, selection: HistorySelection, doing: str, exc: BaseException
) -> StateError:
    reason = error_line(exc)
    return StateError(
        f"could not {doing} contract '{selection.contract_name}' in the state database "
        f"{store.display}: {reason}; nothing was changed. Check that the database is "
        "reachable and run the command again"
    )
