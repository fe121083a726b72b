"""``RemoteStateStore``: the ``RunStore`` of a one-off check, served by the state worker.

Opening the state database means loading SQLAlchemy and its driver, about a third of a
persisted one-off ``floe sla check`` done in one process, and none of it is needed until the
run's history is read. Here
the worker (``floe_core.state.serve``) is started and told which database to open at once,
and every call is answered there, while this process checks the tables.
Nothing here imports a database library.

When the database cannot be opened, ``on_unusable`` hears why, once; from then on the store
reads as empty and writes nothing, so the run is judged and reported as with
``--no-persist``. A URL that is not one (``StateURLError``) is bad input: it is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from floe_core._worker import WorkerProcess
from floe_core.errors import StateError, StateURLError

if TYPE_CHECKING:
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.events import CheckResult, ContractViolationEvent, SLAStatus, ViolationType
    from floe_core.state.run_store import HistoryPoint, ProbePoint

#: ``on_unusable(message, display)``: why the database cannot be used, and its masked URL.
Unusable = Callable[[str, str], None]


def _error(kind: str, message: str) -> Exception:
    return StateURLError(message) if kind == StateURLError.__name__ else StateError(message)


class RemoteStateStore:
    """A state database used from a worker process, which starts loading SQLAlchemy now;
    ``open`` names the database. ``close`` lets the worker go."""

    def __init__(self, *, on_unusable: Unusable) -> None:
        self._worker = WorkerProcess("floe_core.state.serve", "state worker", _error)
        self._on_unusable = on_unusable
        self._display: str | None = None
        self._unusable = False
        self._opening: asyncio.Future[None] | None = None

    def open(self, source: tuple[str, str] | None) -> RemoteStateStore:
        """Open the state database ``source`` (its URL as configured and where that came
        from; None: the embedded default) in the worker; the answer is read on first use."""
        self._worker.send("open", source=source)
        return self

    @property
    def display(self) -> str:
        return self._display or "(the state database)"

    @property
    def failures(self) -> tuple[type[BaseException], ...]:
        return (StateError,)

    async def _usable(self) -> bool:
        """Whether the database opened (asked once; ``on_unusable`` hears if it did not)."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opening)
        return not self._unusable

    async def _open(self) -> None:
        self._display, problem = await self._call("opened")
        if problem is None:
            return
        kind, message = problem
        if kind == StateURLError.__name__:
            raise StateURLError(message)
        self._unusable = True
        self._on_unusable(message, self.display)

    async def _call(self, operation: str, **arguments: Any) -> Any:
        return await asyncio.to_thread(self._worker.call, operation, **arguments)

    async def probe_history(self, contract_name: str, since: datetime) -> list[ProbePoint]:
        if not await self._usable():
            return []
        points: list[ProbePoint] = await self._call(
            "probe_history", contract_name=contract_name, since=since
        )
        return points

    async def breaches_by_type(
        self, contract_name: str, since: datetime
    ) -> dict[ViolationType, int]:
        if not await self._usable():
            return {}
        counts: dict[ViolationType, int] = await self._call(
            "breaches_by_type", contract_name=contract_name, since=since
        )
        return counts

    async def check_histories(
        self, contract_name: str, check_types: Iterable[ViolationType], since: datetime
    ) -> dict[ViolationType, list[HistoryPoint]]:
        kinds = list(check_types)
        if not await self._usable():
            return {k: [] for k in kinds}
        histories: dict[ViolationType, list[HistoryPoint]] = await self._call(
            "check_histories", contract_name=contract_name, check_types=kinds, since=since
        )
        return histories

    async def consecutive_failures_by_type(
        self, contract_name: str, check_types: Iterable[ViolationType]
    ) -> dict[ViolationType, int]:
        kinds = list(check_types)
        if not await self._usable():
            return {}
        counts: dict[ViolationType, int] = await self._call(
            "consecutive_failures_by_type", contract_name=contract_name, check_types=kinds
        )
        return counts

    async def record_run(
        self,
        registered: RegisteredContract | str,
        results: Sequence[CheckResult],
        events: Sequence[ContractViolationEvent],
        statuses: Sequence[SLAStatus],
    ) -> None:
        if not await self._usable():
            return
        name = registered if isinstance(registered, str) else registered.contract_name
        await self._call(
            "record_run",
            registered=name,
            results=list(results),
            events=list(events),
            statuses=list(statuses),
        )

    def close(self) -> None:
        """Let the worker go: it ends once it has answered what was asked (every call that
        writes has been answered by then, so its transaction is committed)."""
        self._worker.close()
