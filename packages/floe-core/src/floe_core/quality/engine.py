"""DuckDB over one table: every library aggregate in one streaming pass, then each sql rule.

The table is a DuckDB view named after it, over its Parquet files (``read_parquet``) or over a
stream of pyiceberg's Arrow batches (see ``source``); a stream is read once, so each sql rule
then gets its own. DuckDB spills to a temporary directory beyond ``memory_limit``, sees no
files but the table's and no Python variables, and its configuration is locked before any
rule runs. Parquet files are read in floe's DuckDB worker process (``floe_core.duckdb_worker``);
Arrow streams, which cannot leave this process, by DuckDB in this process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from floe_core.duckdb_worker.client import WORKER_EXITED, RemoteSession, open_session
from floe_core.duckdb_worker.session import EngineError, Rows, Session, quote_literal
from floe_core.quality.columns import Column
from floe_core.quality.source import Source, cheapest_column
from floe_core.quality.sql import bind_placeholders, quote_ident

if TYPE_CHECKING:
    from floe_core.iceberg import TableView

# Errors whose text is about the query (or floe's worker, or DuckDB's absence), never rows.
_QUERY_ERRORS = (
    "ParserException",
    "BinderException",
    "CatalogException",
    "PermissionException",
    WORKER_EXITED,
    "ImportError",
    "ModuleNotFoundError",
)


_TIMED_OUT = (
    "the scan did not finish within check_timeout_seconds and was stopped; raise the timeout "
    "or narrow the rule"
)


class RuleError(Exception):
    """One rule could not be evaluated; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class OutOfBounds(RuleError):
    """A value lay outside the range a bitmap was sized by: the file's bounds were wrong."""


@dataclass(frozen=True)
class Settings:
    """How much of the machine DuckDB may use, and until when (``time.monotonic()``)."""

    memory_limit: str = "512MB"
    threads: int | None = None
    deadline: float | None = None


class Engine:
    """One DuckDB connection over one table's current snapshot; use it as a context manager."""

    def __init__(
        self, table: TableView, source: Source, columns: list[Column], settings: Settings
    ) -> None:
        self.table = table
        self.source = source
        self.columns = columns
        self.settings = settings
        self.relation = source.relation
        self.scans = 0
        self._con: Session | RemoteSession | None = None
        self._temp: str | None = None

    @property
    def con(self) -> Session | RemoteSession:
        """The open session."""
        assert self._con is not None, "use the engine as a context manager"
        return self._con

    def __enter__(self) -> Engine:
        self._temp = tempfile.mkdtemp(prefix="floe-quality-")
        config: dict[str, Any] = {
            "memory_limit": self.settings.memory_limit,
            "temp_directory": self._temp,
        }
        if self.settings.threads:
            config["threads"] = self.settings.threads
        try:
            # Parquet files are read in the worker; Arrow data exists only in this process.
            self._con = open_session(config, in_process=self.source.kind != "parquet")
            self.con.execute("SET enable_progress_bar = false")
            self.con.execute("SET python_enable_replacements = false")  # no Python variables
            allowed = [self._temp]
            files = list(self.source.files)
            if files:
                self.con.view_parquet(self.relation, files)
                allowed.append(os.path.commonpath([os.path.dirname(f) for f in files]))
            elif self.source.kind == "empty":
                self.con.register(self.relation, self.table.schema().as_arrow().empty_table())
            dirs = ", ".join(quote_literal(d.rstrip(os.sep) + os.sep) for d in allowed)
            self.con.execute(f"SET allowed_directories = [{dirs}]")
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
        except EngineError as exc:
            self.__exit__()
            message = _safe(exc, "the table's data could not be opened")
            raise RuleError("scan_failed", message) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)

    def _stream(self, names: tuple[str, ...]) -> None:
        """Register a fresh Arrow batch stream of ``names`` (all columns if empty) as the view."""
        snapshot = self.table.current_snapshot()
        assert snapshot is not None
        fields = names or ("*",)
        scan = self.table.scan(selected_fields=fields, snapshot_id=snapshot.snapshot_id)
        self.con.register(self.relation, scan.to_arrow_batch_reader())

    def _query(
        self, sql: str, params: dict[str, Any] | None = None, limit: int | None = None
    ) -> Rows:
        """``sql``'s rows and width, stopped at the deadline (``RuleError`` ``timeout``)."""
        timeout = None
        if self.settings.deadline is not None:
            timeout = self.settings.deadline - time.monotonic()
            if timeout <= 0:
                raise RuleError("timeout", _TIMED_OUT)
        try:
            return self.con.execute(sql, params, limit=limit, timeout=timeout)
        except EngineError as exc:
            if exc.kind == "InterruptException":
                raise RuleError("timeout", _TIMED_OUT) from None
            raise

    def check_pattern(self, pattern: str) -> None:
        """Raise ``RuleError`` when DuckDB's RE2 cannot compile ``pattern``."""
        try:
            self.con.execute("SELECT regexp_matches('', $p)", {"p": pattern})
        except EngineError as exc:
            raise RuleError("invalid_pattern", f"arguments.pattern is not RE2: {exc}") from None

    def aggregate(self, measures: list[str], params: dict[str, Any]) -> tuple[int, list[float]]:
        """The row count and every measure, in one pass over the table."""
        if self.source.kind == "pyiceberg":
            self._stream(tuple(c.name for c in self.columns) or (cheapest_column(self.table),))
        sql = f"SELECT count(*), {', '.join(measures) or '0'} FROM {quote_ident(self.relation)}"
        try:
            [row], _ = self._query(sql, params)
        except EngineError as exc:
            if exc.kind == "OutOfRangeException":  # its message quotes the value: withheld
                raise OutOfBounds("scan_failed", _safe(exc, "the scan failed")) from None
            raise RuleError("scan_failed", _safe(exc, "the scan failed")) from None
        finally:
            self._unstream()
        self.scans += 1
        return int(row[0]), [float(v) for v in row[1 : 1 + len(measures)]]

    def duplicates_by_group(self, column: str, groups: list[list[str]]) -> int:
        """``count - count distinct`` of ``column``, summed over groups of disjoint files."""
        parts = [
            f"SELECT count({column}) - count(DISTINCT {column}) AS d FROM read_parquet("
            f"[{', '.join(quote_literal(path) for path in group)}], union_by_name = true)"
            for group in groups
        ]
        sql = f"SELECT coalesce(sum(d), 0) FROM ({' UNION ALL '.join(parts)})"
        try:
            [(count,)], _ = self._query(sql)
        except EngineError as exc:
            raise RuleError("scan_failed", _safe(exc, "the scan failed")) from None
        self.scans += 1
        return int(count)

    def sql(self, query: str, column: Column | None) -> float:
        """The one number a sql rule's SELECT returns."""
        bound = bind_placeholders(query, self.relation, column)
        try:
            statements = self.con.statement_types(bound)
        except EngineError as exc:
            raise RuleError("sql_error", _safe(exc, "the query does not parse")) from None
        if statements != ["SELECT"]:
            raise RuleError("sql_not_select", "the query must be one SELECT returning one number")
        if self.source.kind == "pyiceberg":
            self._stream(())
        try:
            rows, width = self._query(bound, limit=2)
        except EngineError as exc:
            raise RuleError("sql_error", _safe(exc, "the query failed")) from None
        finally:
            self._unstream()
        return _one_number(rows, width)

    def _unstream(self) -> None:
        if self.source.kind == "pyiceberg":
            self.con.unregister(self.relation)


def _one_number(rows: list[Any], width: int) -> float:
    from decimal import Decimal

    if len(rows) != 1 or width != 1:
        raise RuleError("sql_result_shape", "the query must return one row with one number")
    value = rows[0][0]
    if value is None:
        raise RuleError("sql_result_null", "the query returned null, not a number")
    if not isinstance(value, int | float | Decimal):  # bool is an int: true is 1
        raise RuleError(
            "sql_not_a_number", f"the query returned a {type(value).__name__}, not a number"
        )
    return float(value)


def _safe(exc: EngineError, fallback: str) -> str:
    """DuckDB's message when it is about the query; else only its kind (it may quote rows)."""
    kind = exc.kind
    if kind in _QUERY_ERRORS:
        return f"{fallback}: {str(exc).splitlines()[0]}"
    return f"{fallback} ({kind}; its message is withheld, as it may quote row values)"
