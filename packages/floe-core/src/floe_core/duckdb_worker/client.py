"""floe's side of the worker: the process, requests in flight to it, and remote sessions.

One worker serves the whole floe process (``shared_worker``); it is started on first use, or
early by ``prestart``, and started again after it exits. A process that forks gets a worker
of its own. ``open_session`` returns a DuckDB session in the worker, or in this process when
``FLOE_DUCKDB_WORKER=0`` or when the data must stay here (Arrow streams).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from floe_core.duckdb_worker._frames import read_frame, write_frame
from floe_core.duckdb_worker.session import EngineError, Rows, Session

log = logging.getLogger(__name__)

#: Set to 0 (or false, no, off) to run DuckDB in floe's own process.
ENV_SWITCH = "FLOE_DUCKDB_WORKER"
WORKER_EXITED = "WorkerExited"


def enabled() -> bool:
    """Whether DuckDB runs in the worker process (the default)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


class _Pending:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: tuple[Any, ...] = ()


class Worker:
    """A worker process, and the replies it owes; safe to use from many threads."""

    def __init__(self) -> None:
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "floe_core.duckdb_worker.serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                close_fds=True,
                # Its own session: Ctrl-C or a SIGTERM to floe's process group is floe's to
                # handle (a monitor stops gracefully); the worker exits when its pipe closes.
                start_new_session=True,
            )
        except OSError as exc:
            raise EngineError(
                WORKER_EXITED,
                f"the DuckDB worker process could not be started ({exc}); "
                f"{ENV_SWITCH}=0 runs DuckDB in floe's own process",
            ) from None
        self.pid = self._process.pid
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._gone: str | None = None
        for target, name in ((self._read_replies, "replies"), (self._log_stderr, "stderr")):
            threading.Thread(target=target, name=f"floe-duckdb-{name}", daemon=True).start()

    @property
    def alive(self) -> bool:
        """Whether the worker can still take requests."""
        return self._gone is None

    def call(self, operation: str, **arguments: Any) -> Any:
        """Run ``operation`` in the worker and return its value; raise its ``EngineError``."""
        pending = _Pending()
        self._send(operation, arguments, pending)
        pending.done.wait()
        if pending.reply[0] == "ok":
            return pending.reply[1]
        _, kind, message = pending.reply
        raise EngineError(kind, message)

    def send(self, operation: str, **arguments: Any) -> None:
        """Start ``operation`` in the worker without waiting for (or reading) its reply."""
        self._send(operation, arguments, None)

    def _send(self, operation: str, arguments: dict[str, Any], pending: _Pending | None) -> None:
        with self._lock:
            if self._gone is not None:
                raise EngineError(WORKER_EXITED, self._gone)
            request_id = next(self._ids)
            if pending is not None:
                self._pending[request_id] = pending
            try:
                assert self._process.stdin is not None
                write_frame(self._process.stdin, (request_id, operation, arguments))
            except (OSError, ValueError):
                self._pending.pop(request_id, None)
                self._gone = self._gone or "the DuckDB worker process exited"
                raise EngineError(WORKER_EXITED, self._gone) from None

    def _read_replies(self) -> None:
        assert self._process.stdout is not None
        while True:
            try:
                request_id, reply = read_frame(self._process.stdout)
            except (EOFError, OSError):
                break
            except Exception as exc:  # not a frame: the pipe cannot be trusted any more
                log.error("the DuckDB worker's reply could not be read (%s); stopping it", exc)
                self._process.kill()
                break
            with self._lock:
                pending = self._pending.pop(request_id, None)
            if pending is not None:
                pending.reply = reply
                pending.done.set()
        status = self._process.wait()
        message = f"the DuckDB worker process exited (status {status})"
        with self._lock:
            self._gone = message
            orphans = list(self._pending.values())
            self._pending.clear()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        if status != 0:
            log.warning("%s; the next DuckDB request starts a new one", message)
        for pending in orphans:
            pending.reply = ("error", WORKER_EXITED, message)
            pending.done.set()

    def _log_stderr(self) -> None:
        assert self._process.stderr is not None
        with self._process.stderr as lines:
            for line in lines:
                log.debug("duckdb worker %d: %s", self.pid, line.decode(errors="replace").rstrip())


_shared: Worker | None = None
_shared_pid = 0
_shared_lock = threading.Lock()


def shared_worker() -> Worker:
    """This process's worker, started if there is none yet or the last one has exited."""
    global _shared, _shared_pid
    with _shared_lock:
        if _shared is None or not _shared.alive or _shared_pid != os.getpid():
            _shared, _shared_pid = Worker(), os.getpid()
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


def _first_call(operation: str, **arguments: Any) -> tuple[Worker, Any]:
    """``operation`` on the shared worker, on a new one if that one has just exited."""
    worker = shared_worker()
    try:
        return worker, worker.call(operation, **arguments)
    except EngineError as exc:
        if exc.kind != WORKER_EXITED:
            raise
    worker = shared_worker()  # one that died between requests is replaced once
    return worker, worker.call(operation, **arguments)
