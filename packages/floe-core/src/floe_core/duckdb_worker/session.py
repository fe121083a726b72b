"""One DuckDB database and the few operations floe runs on it, wherever DuckDB runs.

``Session`` is DuckDB in this process; the worker process serves the same operations, and
``floe_core.duckdb_worker.client.RemoteSession`` mirrors them over its pipe. Every DuckDB
error becomes an ``EngineError`` carrying DuckDB's exception class name as ``kind``, so callers
judge errors the same way on both sides, without importing DuckDB.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

#: A query's rows, and how many columns it returned.
Rows = tuple[list[tuple[Any, ...]], int]


def quote_literal(text: str) -> str:
    """``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


class EngineError(Exception):
    """DuckDB (or the worker running it) refused; ``kind`` is DuckDB's exception class name.

    The message is DuckDB's own and may quote row values: callers decide, by ``kind``,
    whether it can be shown.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@contextmanager
def _engine_errors() -> Iterator[None]:
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        raise EngineError(type(exc).__name__, str(exc)) from None


def duckdb_version() -> str:
    """The version of the DuckDB package in this process."""
    import duckdb

    return str(duckdb.__version__)


#: Options a database takes as well after it is created (``SET name = value``).
SETTABLE = frozenset({"memory_limit", "temp_directory", "threads"})


class Session:
    """A new in-memory DuckDB database, configured by ``config`` (``duckdb.connect``'s)."""

    def __init__(self, config: dict[str, Any]) -> None:
        import duckdb

        with _engine_errors():
            self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(config=config)

    def configure(self, config: dict[str, Any]) -> Session:
        """Apply ``config``, whose options are all ``SETTABLE``, to a database created earlier."""
        unknown = set(config) - SETTABLE
        if unknown:
            raise ValueError(f"options {sorted(unknown)} are set when a database is created")
        for name, value in config.items():
            literal = str(int(value)) if name == "threads" else quote_literal(str(value))
            self.execute(f"SET {name} = {literal}")
        return self

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise EngineError("ConnectionException", "the DuckDB session is closed")
        return self._con

    def execute(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> Rows:
        """Run ``sql``; all its rows, or the first ``limit`` (the rest are dropped).

        After ``timeout`` seconds DuckDB is interrupted: ``EngineError`` of kind
        ``InterruptException``.
        """
        with _engine_errors(), _interrupt_after(self.con, timeout):
            self.con.execute(sql, params)
            try:
                rows = self.con.fetchall() if limit is None else self.con.fetchmany(limit)
                return rows, len(self.con.description or ())
            finally:
                if limit is not None:
                    _drop_pending_result(self.con)

    def statement_types(self, sql: str) -> list[str]:
        """The type (``SELECT``, ``INSERT``, ...) of each statement of ``sql``, unexecuted."""
        with _engine_errors():
            # On this connection: the module-level function would start a second database.
            return [statement.type.name for statement in self.con.extract_statements(sql)]

    def view_parquet(self, relation: str, files: Sequence[str]) -> None:
        """Name the union (by column name) of the Parquet ``files`` ``relation``."""
        with _engine_errors():
            self.con.read_parquet(list(files), union_by_name=True).create_view(relation)

    def register(self, relation: str, data: Any) -> None:
        """Name an Arrow table or record batch reader ``relation`` (in this process only)."""
        with _engine_errors():
            self.con.register(relation, data)

    def unregister(self, relation: str) -> None:
        """Forget what ``register`` named ``relation``."""
        with _engine_errors():
            self.con.unregister(relation)

    def close(self) -> None:
        """Close the database; closing twice does nothing."""
        if self._con is not None:
            self._con.close()
            self._con = None


def probe(database: str, read_only: bool, config: dict[str, Any], query: str) -> tuple[Any, str]:
    """Open ``database`` as the compute plugin would, run ``query``: its first row, and the
    DuckDB version that answered."""
    import duckdb

    with _engine_errors(), duckdb.connect(database, read_only=read_only, config=config) as con:
        return con.execute(query).fetchone(), str(duckdb.__version__)


@contextmanager
def _interrupt_after(con: duckdb.DuckDBPyConnection, timeout: float | None) -> Iterator[None]:
    """Interrupt what ``con`` runs once ``timeout`` seconds have passed, but nothing after."""
    if timeout is None:
        yield
        return
    lock = threading.Lock()
    running = True

    def interrupt() -> None:
        with lock:
            if running:
                con.interrupt()

    timer = threading.Timer(max(timeout, 0.0), interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            running = False
        timer.cancel()


def _drop_pending_result(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the rows a query did not return (DuckDB 2 keeps them until told; 1.x drops them)."""
    abort = getattr(con, "abort", None)
    if abort is not None:
        abort()
