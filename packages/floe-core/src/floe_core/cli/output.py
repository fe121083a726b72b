"""The CLI's one output layer: every command renders through ``TableOutput`` or ``JsonOutput``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import click

from floe_core.contracts.durations import format_duration
from floe_core.monitoring.models import (
    CheckReport,
    CheckResult,
    CheckStatus,
    ViolationSeverity,
    ViolationType,
)

_STATUS_STYLE = {
    CheckStatus.PASS: "bold green",
    CheckStatus.FAIL: "bold red",
    CheckStatus.ERROR: "bold magenta",
    CheckStatus.SKIPPED: "dim",
}
_SEVERITY_STYLE = {
    ViolationSeverity.INFO: "cyan",
    ViolationSeverity.WARNING: "yellow",
    ViolationSeverity.ERROR: "red",
    ViolationSeverity.CRITICAL: "bold white on red",
}


class Output(Protocol):
    """Renders command results in one format."""

    def check_report(self, report: CheckReport, verdict: str) -> None:
        """Show the results and events of one ``floe sla check`` run."""


class JsonOutput:
    """Exactly one JSON document on stdout, models serialised by pydantic in JSON mode."""

    def check_report(self, report: CheckReport, verdict: str) -> None:
        click.echo(report.model_dump_json(indent=2))


class TableOutput:
    """Rich tables for people at a terminal (or reading CI logs)."""

    def __init__(self) -> None:
        from rich.console import Console

        width = None if sys.stdout.isatty() else 140
        self.console = Console(width=width, highlight=False)

    def check_report(self, report: CheckReport, verdict: str) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=f"{report.contract_name} {report.contract_version}",
            title_justify="left",
            expand=False,
        )
        table.add_column("Check", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Element", overflow="fold")
        table.add_column("Detail", overflow="fold", ratio=1)
        table.add_column("Time", justify="right", no_wrap=True)
        for result in report.results:
            table.add_row(
                result.check_type.value,
                Text(result.status.value.upper(), style=_STATUS_STYLE[result.status]),
                "",
                "",
                summarize(result),
                f"{result.duration_seconds * 1000:.0f} ms",
            )
            for event in report.violations:
                if event.violation_type != result.check_type:
                    continue
                table.add_row(
                    "  └ violation",
                    "",
                    Text(event.severity.value.upper(), style=_SEVERITY_STYLE[event.severity]),
                    event.element or "",
                    _event_detail(event.message, event.expected_value, event.actual_value),
                    "",
                )
        self.console.print(table)
        self.console.print(verdict)


def _event_detail(message: str, expected: str | None, actual: str | None) -> str:
    if expected is None and actual is None:
        return message
    return f"{message} [dim](expected {expected}, actual {actual})[/dim]"


def summarize(result: CheckResult) -> str:
    """One line saying what a check found, from its details."""
    details: dict[str, Any] = result.details
    if result.status is CheckStatus.SKIPPED:
        return f"skipped: {details.get('reason', '')}"
    if result.status is CheckStatus.ERROR:
        return f"{details.get('reason', 'error')}: {details.get('message', '')}"
    return _SUMMARIES[result.check_type](details)


def _freshness(details: dict[str, Any]) -> str:
    parts = []
    for table in details.get("tables", []):
        if table["age_seconds"] is None:
            parts.append(f"{table['table']}: no data")
            continue
        age = format_duration(timedelta(seconds=table["age_seconds"]))
        sla = format_duration(timedelta(seconds=table["threshold_seconds"]))
        parts.append(
            f"{table['table']}: newest data {age} old, SLA {sla} "
            f"({table['consumed_pct']:.0f}% used, via {table['method']})"
        )
    return "; ".join(parts)


def _schema_drift(details: dict[str, Any]) -> str:
    return "; ".join(
        f"{table['table']}: "
        + (f"{table['changes']} change(s)" if table["changes"] else "schema matches the contract")
        for table in details.get("tables", [])
    )


def _quality(details: dict[str, Any]) -> str:
    rules = details.get("rules", [])
    failed = sum(rule.get("status") == "fail" for rule in rules)
    score = details.get("quality_score")
    shown = f"quality score {score:.1f}/100; " if isinstance(score, int | float) else ""
    return f"{shown}{len(rules) - failed} of {len(rules)} rule(s) passed"


def _availability(details: dict[str, Any]) -> str:
    target = details.get("target_pct")
    against = f" against a {target:g}% SLA" if target is not None else " (no availability SLA)"
    return (
        f"uptime {details['uptime_pct']:g}%{against} over {details['probes_in_window']} "
        f"probe(s) in 24h; {details['consecutive_failures']} failure(s) in a row"
    )


def _deprecation(details: dict[str, Any]) -> str:
    parts = [f"status {details['status']}"] if details.get("status") else []
    for key, label in (("end_of_support", "end of support"), ("end_of_life", "end of life")):
        if details.get(key):
            parts.append(f"{label} {details[key]}")
    if details.get("replaced_by"):
        parts.append(f"replaced by {details['replaced_by']}")
    return ", ".join(parts)


_SUMMARIES: dict[ViolationType, Callable[[dict[str, Any]], str]] = {
    ViolationType.FRESHNESS: _freshness,
    ViolationType.SCHEMA_DRIFT: _schema_drift,
    ViolationType.QUALITY: _quality,
    ViolationType.AVAILABILITY: _availability,
    ViolationType.DEPRECATION: _deprecation,
}


def make_output(fmt: str) -> Output:
    """The renderer for ``--format``."""
    return JsonOutput() if fmt == "json" else TableOutput()
