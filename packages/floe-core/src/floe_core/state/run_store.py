"""What one run of checks reads from the state database and writes to it.

``StateStore`` is the whole of floe's state over an engine in this process; ``RunStore`` is
the part a run of checks needs (its history, then one write), which ``RemoteStateStore``
also provides from a worker process, so that a one-off ``floe sla check`` never loads
SQLAlchemy. Nothing here imports a database library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

from floe_core.events import CheckStatus, ViolationType

if TYPE_CHECKING:
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.events import CheckResult, ContractViolationEvent, SLAStatus


class HistoryPoint(NamedTuple):
    """One persisted check run: when it ran and how it ended."""

    timestamp: datetime
    status: CheckStatus


class ProbePoint(NamedTuple):
    """One persisted availability probe: when it ran and whether it succeeded."""

    timestamp: datetime
    ok: bool


class RunStore(Protocol):
    """The state database as a run of checks uses it."""

    @property
    def display(self) -> str:
        """The database URL with its password and secret query values masked."""

    @property
    def failures(self) -> tuple[type[BaseException], ...]:
        """The errors that mean the database could not be used (the run goes on without)."""

    async def probe_history(self, contract_name: str, since: datetime) -> list[ProbePoint]:
        """The persisted availability probes since ``since``, oldest first."""

    async def breaches_by_type(
        self, contract_name: str, since: datetime
    ) -> dict[ViolationType, int]:
        """Breaching runs per violation type since ``since`` (types without any left out)."""

    async def check_histories(
        self, contract_name: str, check_types: Iterable[ViolationType], since: datetime
    ) -> dict[ViolationType, list[HistoryPoint]]:
        """The persisted runs of each of ``check_types`` since ``since``, oldest first."""

    async def consecutive_failures_by_type(
        self, contract_name: str, check_types: Iterable[ViolationType]
    ) -> dict[ViolationType, int]:
        """Failed runs of each type since its last passing one (zeros left out)."""

    async def record_run(
        self,
        registered: RegisteredContract | str,
        results: Sequence[CheckResult],
        events: Sequence[ContractViolationEvent],
        statuses: Sequence[SLAStatus],
    ) -> None:
        """Write one run of the contract (or of the registered name) in one transaction."""
