"""DuckDB over one table: every library aggregate in one streaming pass, then each sql rule.

The table is a DuckDB view named after it, over its Parquet files (``read_parquet``) or over a
stream of pyiceberg's Arrow batches (see ``source``); a stream is read once, so each sql rule
then gets its own. DuckDB spills to a temporary directory beyond ``memory_limit``, sees no
files but the table's and no Python variables, and its configuration is locked before any
rule runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from floe_core.quality.columns import Column
from floe_core.quality.source import Source, cheapest_column
from floe_core.quality.sql import bind_placeholders, quote_ident, quote_literal

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.table import Table

# DuckDB errors whose text is about the query, never about row values.
_QUERY_ERRORS = ("ParserException", "BinderException", "CatalogException", "PermissionException")


class RuleError(Exception):
    """One rule could not be evaluated; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class OutOfBounds(RuleError):
    """A value lay outside the range a bitmap was sized by: the file's bounds were wrong."""


@dataclass(frozen=True)
class Settings:
    """How much of the machine DuckDB may use."""

    memory_limit: str = "512MB"
    threads: int | None = None


class Engine:
    """One DuckDB connection over one table's current snapshot; use it as a context manager."""

    def __init__(
        self, table: Table, source: Source, columns: list[Column], settings: Settings
    ) -> None:
        self.table = table
        self.source = source
        self.columns = columns
        self.settings = settings
        self.relation = source.relation
        self.scans = 0
        self._con: duckdb.DuckDBPyConnection | None = None
        self._temp: str | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open connection."""
        assert self._con is not None, "use the engine as a context manager"
        return self._con

    def __enter__(self) -> Engine:
        import duckdb

        self._temp = tempfile.mkdtemp(prefix="floe-quality-")
        config: dict[str, Any] = {
            "memory_limit": self.settings.memory_limit,
            "temp_directory": self._temp,
        }
        if self.settings.threads:
            config["threads"] = self.settings.threads
        try:
            self._con = duckdb.connect(config=config)
            self.con.execute("SET enable_progress_bar = false")
            self.con.execute("SET python_enable_replacements = false")  # no Python variables
            allowed = [self._temp]
            files = list(self.source.files)
            if files:
                self.con.read_parquet(files, union_by_name=True).create_view(self.relation)
                allowed.append(os.path.commonpath([os.path.dirname(f) for f in files]))
            elif self.source.kind == "empty":
                self.con.register(self.relation, self.table.schema().as_arrow().empty_table())
            dirs = ", ".join(quote_literal(d.rstrip(os.sep) + os.sep) for d in allowed)
            self.con.execute(f"SET allowed_directories = [{dirs}]")
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
        except duckdb.Error as exc:
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

    def check_pattern(self, pattern: str) -> None:
        """Raise ``RuleError`` when DuckDB's RE2 cannot compile ``pattern``."""
        import duckdb

        try:
            self.con.execute("SELECT regexp_matches('', $p)", {"p": pattern}).fetchall()
        except duckdb.Error as exc:
            raise RuleError("invalid_pattern", f"arguments.pattern is not RE2: {exc}") from None

    def aggregate(self, measures: list[str], params: dict[str, Any]) -> tuple[int, list[float]]:
        """The row count and every measure, in one pass over the table."""
        import duckdb

        if self.source.kind == "pyiceberg":
            self._stream(tuple(c.name for c in self.columns) or (cheapest_column(self.table),))
        sql = f"SELECT count(*), {', '.join(measures) or '0'} FROM {quote_ident(self.relation)}"
        try:
            [row] = self.con.execute(sql, params).fetchall()
        except duckdb.OutOfRangeException as exc:  # its message quotes the value: withheld
            raise OutOfBounds("scan_failed", _safe(exc, "the scan failed")) from None
        except duckdb.Error as exc:
            raise RuleError("scan_failed", _safe(exc, "the scan failed")) from None
        finally:
            self._unstream()
        self.scans += 1
        return int(row[0]), [float(v) for v in row[1 : 1 + len(measures)]]

    def duplicates_by_group(self, column: str, groups: list[list[str]]) -> int:
        """``count - count distinct`` of ``column``, summed over groups of disjoint files."""
        import duckdb

        parts = [
            f"SELECT count({column}) - count(DISTINCT {column}) AS d FROM read_parquet("
            f"[{', '.join(quote_literal(path) for path in group)}], union_by_name = true)"
            for group in groups
        ]
        sql = f"SELECT coalesce(sum(d), 0) FROM ({' UNION ALL '.join(parts)})"
        try:
            [(count,)] = self.con.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise RuleError("scan_failed", _safe(exc, "the scan failed")) from None
        self.scans += 1
        return int(count)

    def sql(self, query: str, column: Column | None) -> float:
        """The one number a sql rule's SELECT returns."""
        import duckdb

        bound = bind_placeholders(query, self.relation, column)
        try:
            # On this connection: the module-level function would start a second database.
            statements = self.con.extract_statements(bound)
        except duckdb.Error as exc:
            raise RuleError("sql_error", _safe(exc, "the query does not parse")) from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise RuleError("sql_not_select", "the query must be one SELECT returning one number")
        if self.source.kind == "pyiceberg":
            self._stream(())
        try:
            rows = self.con.execute(bound).fetchmany(2)
            width = len(self.con.description or ())
        except duckdb.Error as exc:
            raise RuleError("sql_error", _safe(exc, "the query failed")) from None
        finally:
            _drop_pending_result(self.con)
            self._unstream()
        return _one_number(rows, width)

    def _unstream(self) -> None:
        if self.source.kind == "pyiceberg":
            self.con.unregister(self.relation)


def _drop_pending_result(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the rows a query did not return (DuckDB 2 keeps them until told; 1.x drops them)."""
    abort = getattr(con, "abort", None)
    if abort is not None:
        abort()


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


def _safe(exc: duckdb.Error, fallback: str) -> str:
    """DuckDB's message when it is about the query; else only its kind (it may quote rows)."""
    kind = type(exc).__name__
    if kind in _QUERY_ERRORS:
        return f"{fallback}: {str(exc).splitlines()[0]}"
    return f"{fallback} ({kind}; its message is withheld, as it may quote row values)"
