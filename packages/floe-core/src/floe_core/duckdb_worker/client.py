"""floe's side of the worker: the process, requests in flight to it, and remote sessions.

One worker serves the whole floe process (``shared_worker``); it is started on first use, or
early by ``prestart``, and started again after it exits. A process that forks gets a worker
of its own. ``open_session`` returns a DuckDB session in the worker, or in this process when
``FLOE_DUCKDB_WORKER=0`` or when the data must stay here (Arrow streams).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from floe_core._worker import WORKER_EXITED, WorkerProcess
from floe_core.duckdb_worker.session import EngineError, Rows, Session

log = logging.getLogger(__name__)

#: Set to 0 (or false, no, off) to run DuckDB in floe's own process.
ENV_SWITCH = "FLOE_DUCKDB_WORKER"
__all__ = ["WORKER_EXITED", "RemoteSession", "open_session", "prestart", "shared_worker"]


def enabled() -> bool:
    """Whether DuckDB runs in the worker process (the default)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def _start() -> WorkerProcess:
    return WorkerProcess(
        "floe_core.duckdb_worker.serve",
        "DuckDB worker",
        EngineError,
        hint=f"{ENV_SWITCH}=0 runs DuckDB in floe's own process",
    )


_shared: WorkerProcess | None = None
_shared_pid = 0
_shared_lock = threading.Lock()


def shared_worker() -> WorkerProcess:
    """This process's worker, started if there is none yet or the last one has exited."""
    global _shared, _shared_pid
    with _shared_lock:
        if _shared is None or not _shared.alive or _shared_pid != os.getpid():
            _shared, _shared_pid = _start(), os.getpid()
        return _shared


def prestart() -> None:
    """Start the worker now, so that DuckDB is imported while floe does other work."""
    if enabled():
        try:
            shared_worker()
        except EngineError as exc:  # said again, in context, when DuckDB is needed
            log.debug("%s", exc)


class RemoteSession:
    """A DuckDB database in the worker; the same operations as ``Session``."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._worker, self._id = _first_call("open", config=config)

    def _call(self, operation: str, **arguments: Any) -> Any:
        if self._id is None:
            raise EngineError("ConnectionException", "the DuckDB session is closed")
        return self._worker.call(operation, session=self._id, **arguments)

    def execute(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> Rows:
        rows: Rows = self._call("execute", sql=sql, params=params, limit=limit, timeout=timeout)
        return rows

    def statement_types(self, sql: str) -> list[str]:
        types: list[str] = self._call("statement_types", sql=sql)
        return types

    def view_parquet(self, relation: str, files: Sequence[str]) -> None:
        self._call("view_parquet", relation=relation, files=list(files))

    def register(self, relation: str, data: Any) -> None:
        raise EngineError("NotImplementedException", "Arrow data is registered in process only")

    def unregister(self, relation: str) -> None:
        raise EngineError("NotImplementedException", "Arrow data is registered in process only")

    def close(self) -> None:
        if self._id is None:
            return
        # Nothing to wait for; if the worker has gone, the database has gone with it.
        with contextlib.suppress(EngineError):
            self._worker.send("close", session=self._id)
        self._id = None


def open_session(config: dict[str, Any], *, in_process: bool = False) -> Session | RemoteSession:
    """A new DuckDB database: in the worker unless ``in_process`` or the worker is switched off."""
    if in_process or not enabled():
        return Session(config)
    return RemoteSession(config)


def run_probe(
    database: str, read_only: bool, config: dict[str, Any], query: str
) -> tuple[Any, str]:
    """``session.probe`` where floe runs DuckDB: the worker, or this process."""
    if not enabled():
        from floe_core.duckdb_worker.session import probe

        return probe(database, read_only, config, query)
    _, answer = _first_call(
        "probe", database=database, read_only=read_only, config=config, query=query
    )
    return answer  # type: ignore[no-any-return]


def _first_call(operation: str, **arguments: Any) -> tuple[WorkerProcess, Any]:
    """``operation`` on the shared worker, on a new one if that one has just exited."""
    worker = shared_worker()
    try:
        return worker, worker.call(operation, **arguments)
    except EngineError as exc:
        if exc.kind != WORKER_EXITED:
            raise
    worker = shared_worker()  # one that died between requests is replaced once
    return worker, worker.call(operation, **arguments)
