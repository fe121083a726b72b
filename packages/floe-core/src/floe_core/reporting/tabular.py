"""The SLA report as a table for people, and as CSV (one line per row and window)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Literal

from floe_core._percent import percent
from floe_core.reporting.model import ReportRow, SLAReport, Totals

if TYPE_CHECKING:
    from rich.console import Console

#: CSV columns: the key, the window, then the aggregate columns and what the report adds.
CSV_COLUMNS = (
    "contract_name",
    "check_type",
    "window_start",
    "window_end",
    "total_checks",
    "passed_checks",
    "failed_checks",
    "error_checks",
    "skipped_checks",
    "avg_duration_seconds",
    "min_quality_score",
    "max_quality_score",
    "avg_quality_score",
    "uptime_pct",
    "violation_count",
    "compliance_pct",
    "executed_checks",
    "expected_checks",
    "coverage_pct",
    "trend",
)
#: Windows shown in the table's compliance column; the JSON, CSV and HTML have them all.
TABLE_WINDOWS = 8


def render_csv(report: SLAReport) -> str:
    """One CSV line per (contract, check type, window), with a header line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        key = {"contract_name": row.contract_name, "check_type": row.check_type}
        for window in row.windows:
            writer.writerow({**key, **window.to_dict()})
    return out.getvalue()


def render_table(report: SLAReport, console: Console, state: str) -> None:
    """The report's rows as one table, with its period and sources above it."""
    from rich.table import Table

    source = (
        f"daily aggregates through {report.aggregates_through.isoformat()}, raw rows after"
        if report.aggregates_through
        else "raw check results"
    )
    console.print(f"{report.message} From {state} ({source}).", markup=False, soft_wrap=True)
    if report.empty:
        return
    table = Table(title_justify="left")
    for name, justify in _COLUMNS:
        table.add_column(name, justify=justify, no_wrap=name not in {"Violations", "Measure"})
    for row in report.rows:
        totals = row.totals
        table.add_row(
            row.contract_name,
            row.check_type,
            row.coverage.text(),
            percent(row.coverage.pct),
            str(totals.passed_checks),
            str(totals.failed_checks),
            str(totals.error_checks),
            percent(totals.compliance_pct),
            _violations(row),
            _measure(row.check_type, totals),
            row.trend or "-",
            " ".join(
                percent(w.totals.compliance_pct, sign="") for w in row.windows[-TABLE_WINDOWS:]
            ),
        )
    console.print(table)


_COLUMNS: tuple[tuple[str, Literal["left", "right"]], ...] = (
    ("Contract", "left"),
    ("Check", "left"),
    ("Executed/expected", "right"),
    ("Coverage", "right"),
    ("Pass", "right"),
    ("Fail", "right"),
    ("Error", "right"),
    ("Compliance", "right"),
    ("Violations", "left"),
    ("Measure", "left"),
    ("Trend", "left"),
    (f"Compliance by window (last {TABLE_WINDOWS})", "left"),
)


def _violations(row: ReportRow) -> str:
    if not row.totals.violation_count:
        return "0"
    parts = [f"{n} {severity}" for severity, n in row.violations_by_severity.items()]
    known = sum(row.violations_by_severity.values())
    if known < row.totals.violation_count:
        parts.append(f"{row.totals.violation_count - known} purged")
    return ", ".join(parts)


def _measure(check_type: str, totals: Totals) -> str:
    if check_type == "availability" and totals.uptime_pct is not None:
        return f"uptime {percent(totals.uptime_pct)}"
    if check_type == "quality" and totals.avg_quality_score is not None:
        low, high = totals.min_quality_score, totals.max_quality_score
        return f"score {totals.avg_quality_score:.1f} ({low:.0f}-{high:.0f})"
    return ""
