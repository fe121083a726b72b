"""The worker process: ``python -m floe_core.duckdb_worker.serve``, spoken to on stdin/stdout.

A request is ``(request_id, operation, arguments)``; each runs on a thread of its own, and its
reply ``(request_id, ("ok", value))`` or ``(request_id, ("error", kind, message))`` is written
when it finishes, in whatever order. ``open`` returns a session id that later operations
name. The worker imports DuckDB before it reads its first request, and exits when its stdin
closes: when floe closes it, or when floe's process ends in any way.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from floe_core._worker import read_frame, serving_pipes, write_frame
from floe_core.duckdb_worker.session import (
    SETTABLE,
    EngineError,
    Session,
    duckdb_version,
    probe,
)

#: Requests in progress at once; more wait for a free thread.
MAX_CONCURRENT = 16
#: In-memory databases kept ready: one for a quality scan, one for an availability probe.
SPARES = 2


class Server:
    """Runs requests against sessions by id; replies through ``reply``."""

    def __init__(self, out: IO[bytes], pool: ThreadPoolExecutor) -> None:
        self._out = out
        self._pool = pool
        self._write_lock = threading.Lock()
        self._sessions: dict[int, Session] = {}
        self._ids = itertools.count(1)
        # Creating a database costs tens of milliseconds: a few are made ahead, while idle.
        self._spares: deque[Future[Session]] = deque()
        self._spare_lock = threading.Lock()

    def make_spares(self) -> None:
        """Create databases for the next ``open`` and ``probe`` requests to take."""
        with self._spare_lock:
            while len(self._spares) < SPARES:
                self._spares.append(self._pool.submit(_warm_session))

    def _new_session(self, config: dict[str, Any]) -> Session:
        """A new in-memory database configured by ``config``: a spare, if it can be one."""
        # Only a spare already made: waiting here for one still queued on this pool could
        # leave every thread waiting for a task behind them.
        with self._spare_lock:
            ready = bool(self._spares) and self._spares[0].done() and set(config) <= SETTABLE
            spare = self._spares.popleft() if ready else None
        if spare is None:
            return Session(config)
        self.make_spares()
        try:
            session = spare.result()
        except EngineError:
            return Session(config)
        try:
            return session.configure(config)
        except BaseException:
            session.close()
            raise

    def _probe(self, database: str, read_only: bool, config: dict[str, Any], query: str) -> Any:
        if database != ":memory:" or read_only or not set(config) <= SETTABLE:
            return probe(database, read_only, config, query)
        session = self._new_session(config)
        try:
            rows, _ = session.execute(query, limit=1)
        finally:
            session.close()
        return (rows[0] if rows else None), duckdb_version()

    def handle(self, request_id: int, operation: str, arguments: dict[str, Any]) -> None:
        try:
            reply: tuple[Any, ...] = ("ok", self._run(operation, arguments))
        except EngineError as exc:
            reply = ("error", exc.kind, str(exc))
        except Exception as exc:  # a bug or a bad request: reported, the worker lives on
            reply = ("error", type(exc).__name__, str(exc))
        with self._write_lock:
            write_frame(self._out, (request_id, reply))

    def _run(self, operation: str, arguments: dict[str, Any]) -> Any:
        if operation == "version":
            return duckdb_version()
        if operation == "probe":
            return self._probe(**arguments)
        if operation == "open":
            session_id = next(self._ids)
            self._sessions[session_id] = self._new_session(arguments["config"])
            return session_id
        session_id = arguments.pop("session")
        if operation == "close":
            session = self._sessions.pop(session_id, None)
            if session is not None:
                session.close()
            return None
        session = self._sessions.get(session_id)
        if session is None:
            raise EngineError("ConnectionException", f"no open DuckDB session {session_id}")
        if operation not in ("execute", "statement_types", "view_parquet"):
            raise ValueError(f"unknown operation {operation!r}")
        return getattr(session, operation)(**arguments)


def _warm_session() -> Session:
    """A new database that has run a query: DuckDB's first query sets up what later ones use."""
    session = Session({})
    session.execute("SELECT count(*) FROM range(1000)")
    return session


def main() -> None:
    """Serve requests until stdin closes."""
    requests, replies = serving_pipes()  # DuckDB's C++ output goes to standard error
    pool = ThreadPoolExecutor(MAX_CONCURRENT, thread_name_prefix="floe-duckdb")
    server = Server(replies, pool)
    try:
        duckdb_version()  # import DuckDB now, before floe needs it
    except ImportError:
        pass  # each request will say so
    else:
        server.make_spares()
    while True:
        try:
            request_id, operation, arguments = read_frame(requests)
        except EOFError:
            break
        pool.submit(server.handle, request_id, operation, arguments)
    os._exit(0)  # floe has gone: do not wait for queries nobody will read


if __name__ == "__main__":
    main()
