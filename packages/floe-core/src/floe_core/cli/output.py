"""The CLI's one output layer: every command renders through ``TableOutput`` or ``JsonOutput``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import click

from floe_core._percent import percent
from floe_core.contracts.durations import format_duration
from floe_core.contracts.registered import RegisteredContract
from floe_core.events import (
    CheckReport,
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    SLAStatus,
    ViolationSeverity,
    ViolationType,
)

if TYPE_CHECKING:
    from floe_core.alerting.router import AlertOutcome
    from floe_core.monitoring.corrections import HistoryCorrection
    from floe_core.state.corrections import Count, HistoryRemoval

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

    def check_report(
        self, report: CheckReport, verdict: str, alerts: Sequence[AlertOutcome] | None = None
    ) -> None:
        """Show the results and events of one ``floe sla check`` run (and its alerts)."""

    def registered(self, registered: RegisteredContract, state: str) -> None:
        """Confirm that a contract joined the monitored set in database ``state``."""

    def unregistered(self, name: str, state: str) -> None:
        """Confirm that contract ``name`` left the monitored set in database ``state``."""

    def contracts(
        self, contracts: Sequence[RegisteredContract], statuses: Sequence[SLAStatus], state: str
    ) -> None:
        """Show the registered contracts and their SLA status (``floe sla list``)."""

    def sla_statuses(self, statuses: Sequence[SLAStatus], name: str | None, state: str) -> None:
        """Show the current SLA status rows, of every contract or of ``name``."""

    def history(
        self,
        name: str,
        results: Sequence[CheckResult],
        violations: Sequence[ContractViolationEvent],
        since: datetime,
        state: str,
    ) -> None:
        """Show one contract's check results and violations since ``since``, newest first."""

    def history_corrected(self, correction: HistoryCorrection, state: str) -> None:
        """Say what ``floe sla history --delete`` removed and recomputed (maybe nothing)."""


def registration_summary(
    registered: RegisteredContract, statuses: Sequence[SLAStatus] = ()
) -> dict[str, Any]:
    """A registration as ``floe sla`` shows it: no contract body, no connection secrets."""
    return {
        **registered.model_dump(
            mode="json",
            include={
                "contract_name",
                "contract_version",
                "registered_at",
                "active",
                "last_check_times",
            },
        ),
        "catalog_source": registered.connection_config.get("source"),
        "sla_status": [
            s.model_dump(mode="json", exclude={"contract_name"})
            for s in statuses
            if s.contract_name == registered.contract_name
        ],
    }


class JsonOutput:
    """Exactly one JSON document on stdout, models serialised by pydantic in JSON mode."""

    def check_report(
        self, report: CheckReport, verdict: str, alerts: Sequence[AlertOutcome] | None = None
    ) -> None:
        if alerts is None:
            click.echo(report.model_dump_json(indent=2))
            return
        document = report.model_dump(mode="json")
        document["alerts"] = [outcome.to_dict() for outcome in alerts]
        self._echo(document)

    def registered(self, registered: RegisteredContract, state: str) -> None:
        summary = registration_summary(registered)
        del summary["sla_status"]
        self._echo({"state_database": state, "registered": summary})

    def unregistered(self, name: str, state: str) -> None:
        self._echo({"state_database": state, "unregistered": name})

    def contracts(
        self, contracts: Sequence[RegisteredContract], statuses: Sequence[SLAStatus], state: str
    ) -> None:
        self._echo(
            {
                "state_database": state,
                "contracts": [registration_summary(c, statuses) for c in contracts],
            }
        )

    def sla_statuses(self, statuses: Sequence[SLAStatus], name: str | None, state: str) -> None:
        self._echo({"statuses": [s.model_dump(mode="json") for s in statuses]})

    def history(
        self,
        name: str,
        results: Sequence[CheckResult],
        violations: Sequence[ContractViolationEvent],
        since: datetime,
        state: str,
    ) -> None:
        self._echo(
            {
                "contract_name": name,
                "results": [r.model_dump(mode="json") for r in results],
                "violations": [v.model_dump(mode="json") for v in violations],
            }
        )

    def history_corrected(self, correction: HistoryCorrection, state: str) -> None:
        self._echo({"state_database": state, **correction.to_dict()})

    @staticmethod
    def _echo(document: dict[str, Any]) -> None:
        # allow_nan=False would reject an infinitely stale table: say so as null instead.
        click.echo(json.dumps(_finite(document), indent=2))


class TableOutput:
    """Rich tables for people at a terminal (or reading CI logs)."""

    def __init__(self) -> None:
        from rich.console import Console

        width = None if sys.stdout.isatty() else 140
        self.console = Console(width=width, highlight=False)

    def check_report(
        self, report: CheckReport, verdict: str, alerts: Sequence[AlertOutcome] | None = None
    ) -> None:
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
        causes = SharedCauses()
        for result in report.results:
            table.add_row(
                result.check_type.value,
                Text(result.status.value.upper(), style=_STATUS_STYLE[result.status]),
                "",
                "",
                causes.summarize(result),
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
                    _event_detail(
                        causes.mention(event.message), event.expected_value, event.actual_value
                    )
                    + _escalation(event.metadata),
                    "",
                )
        self.console.print(table)
        self.console.print(verdict)
        for outcome in alerts or ():
            reason = f" ({outcome.reason})" if outcome.reason else ""
            self.console.print(
                f"Alert {outcome.kind} to {outcome.channel} "
                f"[{', '.join(outcome.violation_types)}]: {outcome.status}{reason}",
                markup=False,
            )

    def registered(self, registered: RegisteredContract, state: str) -> None:
        self.console.print(
            f"Registered {registered.contract_name} {registered.contract_version} in {state}.",
            markup=False,
        )

    def unregistered(self, name: str, state: str) -> None:
        self.console.print(
            f"Unregistered {name} from {state}; its history and SLA status stay.", markup=False
        )

    def contracts(
        self, contracts: Sequence[RegisteredContract], statuses: Sequence[SLAStatus], state: str
    ) -> None:
        from rich.table import Table

        if not contracts:
            self.console.print(
                f"No contracts registered in {state}. Register one with: "
                "floe sla register CONTRACT_FILE",
                markup=False,
            )
            return
        table = Table(title=f"Registered contracts in {state}", title_justify="left")
        table.add_column("Contract", no_wrap=True)
        table.add_column("Version", no_wrap=True)
        table.add_column("Registered", no_wrap=True)
        table.add_column("Last check", no_wrap=True)
        table.add_column("SLA compliance (24 h)", overflow="fold", ratio=1)
        for registered in contracts:
            last = max(registered.last_check_times.values(), default=None)
            mine = [s for s in statuses if s.contract_name == registered.contract_name]
            name = registered.contract_name + ("" if registered.active else " (inactive)")
            table.add_row(
                name,
                registered.contract_version,
                f"{registered.registered_at:%Y-%m-%d %H:%M} UTC",
                f"{last:%Y-%m-%d %H:%M} UTC" if last else "never",
                "; ".join(_compliance(s) for s in mine) or "no measurement yet",
            )
        self.console.print(table)

    def sla_statuses(self, statuses: Sequence[SLAStatus], name: str | None, state: str) -> None:
        from rich.table import Table

        if not statuses:
            whose = f" for contract '{name}'" if name else ""
            self.console.print(
                f"No SLA status recorded yet{whose} in {state}; run floe sla check "
                "CONTRACT_FILE to measure it.",
                markup=False,
                soft_wrap=True,
            )
            return
        table = Table(title=f"SLA status in {state}", title_justify="left")
        table.add_column("Contract", no_wrap=True)
        table.add_column("Check", no_wrap=True)
        table.add_column("Current", justify="right", no_wrap=True)
        table.add_column("Threshold", justify="right", no_wrap=True)
        table.add_column("Compliance 24 h", justify="right", no_wrap=True)
        table.add_column("Failed in a row", justify="right", no_wrap=True)
        table.add_column("Breaches 24 h", justify="right", no_wrap=True)
        table.add_column("Last check", no_wrap=True)
        for status in statuses:
            last = status.last_check_time
            table.add_row(
                status.contract_name,
                status.check_type.value,
                _measure(status.check_type, status.current_value),
                _measure(status.check_type, status.threshold),
                percent(status.compliance_pct),
                str(status.consecutive_failures),
                str(status.violation_count_24h),
                f"{last:%Y-%m-%d %H:%M:%S} UTC" if last else "never",
            )
        self.console.print(table)

    def history(
        self,
        name: str,
        results: Sequence[CheckResult],
        violations: Sequence[ContractViolationEvent],
        since: datetime,
        state: str,
    ) -> None:
        from rich.table import Table
        from rich.text import Text

        when = f"{since:%Y-%m-%d %H:%M:%S} UTC"
        if not results and not violations:
            self.console.print(
                f"No check results or violations recorded for contract '{name}' since {when} "
                f"in {state}.",
                markup=False,
                soft_wrap=True,
            )
            return
        checks = Table(
            title=f"{name}: check results since {when} (newest first)", title_justify="left"
        )
        checks.add_column("Checked", no_wrap=True)
        checks.add_column("Check", no_wrap=True)
        checks.add_column("Status", no_wrap=True)
        checks.add_column("Detail", overflow="fold", ratio=1)
        checks.add_column("Time", justify="right", no_wrap=True)
        for result in results:
            checks.add_row(
                f"{result.timestamp:%Y-%m-%d %H:%M:%S}",
                result.check_type.value,
                Text(result.status.value.upper(), style=_STATUS_STYLE[result.status]),
                Text(_safe_summary(result)),
                f"{result.duration_seconds * 1000:.0f} ms",
            )
        self.console.print(checks)
        if not violations:
            self.console.print(f"No violations since {when}.", markup=False)
            return
        events = Table(
            title=f"{name}: violations since {when} (newest first)", title_justify="left"
        )
        events.add_column("Detected", no_wrap=True)
        events.add_column("Check", no_wrap=True)
        events.add_column("Severity", no_wrap=True)
        events.add_column("Element", overflow="fold")
        events.add_column("Detail", overflow="fold", ratio=1)
        for event in violations:
            events.add_row(
                f"{event.timestamp:%Y-%m-%d %H:%M:%S}",
                event.violation_type.value,
                Text(event.severity.value.upper(), style=_SEVERITY_STYLE[event.severity]),
                event.element or "",
                _event_detail(event.message, event.expected_value, event.actual_value)
                + _escalation(event.metadata),
            )
        self.console.print(events)

    def history_corrected(self, correction: HistoryCorrection, state: str) -> None:
        removal = correction.removal
        if correction.corrected_by is None:
            self.console.print(
                f"Nothing to delete: no check results or violations of contract "
                f"'{removal.selection.contract_name}' {_selected(removal)} in {state}.",
                markup=False,
                soft_wrap=True,
            )
            self._kept_aggregates(removal)
            return
        self.console.print(
            f"Deleted {_removed(removal)} of contract '{removal.selection.contract_name}' "
            f"{_selected(removal)} in {state}, as {correction.corrected_by}.",
            markup=False,
            soft_wrap=True,
        )
        if correction.statuses:
            self.console.print("SLA status recomputed from the remaining history:")
            self.sla_statuses(correction.statuses, removal.selection.contract_name, state)
        for kind in correction.statuses_removed:
            self.console.print(
                f"No {kind.value} run that measured the SLA is left: its SLA status is removed.",
                markup=False,
            )
        rolled = correction.aggregates
        for keys, what in (
            (rolled.rebuilt, "rolled up again from the remaining raw rows"),
            (rolled.removed, "removed, no raw rows left"),
        ):
            if keys:
                self.console.print(
                    f"Daily aggregates {what}: {_day_keys(keys)}.", markup=False, soft_wrap=True
                )
        self._kept_aggregates(removal)

    def _kept_aggregates(self, removal: HistoryRemoval) -> None:
        if removal.kept_aggregate_days:
            self.console.print(_kept_note(removal), markup=False, soft_wrap=True)


def removal_preview(removal: HistoryRemoval, state: str, *, err: bool = False) -> None:
    """Show what ``floe sla history --delete`` is about to remove, before it asks."""
    from rich.console import Console
    from rich.table import Table

    stream = sys.stderr if err else sys.stdout
    console = Console(stderr=err, highlight=False, width=None if stream.isatty() else 140)
    selection = removal.selection
    console.print(
        f"About to delete from {state}: the check results and violations of contract "
        f"'{selection.contract_name}' {_selected(removal)}:",
        markup=False,
        soft_wrap=True,
    )
    table = Table(title_justify="left")
    table.add_column("Check", no_wrap=True)
    table.add_column("Check results", overflow="fold")
    table.add_column("Violations", overflow="fold")
    results, violations = _outcomes(removal.results), _outcomes(removal.violations)
    for kind in removal.check_types:
        table.add_row(kind.value, results.get(kind.value, "-"), violations.get(kind.value, "-"))
    console.print(table)
    span = ""
    if removal.first is not None and removal.last is not None:
        span = f", recorded from {_utc(removal.first)} to {_utc(removal.last)}"
    kinds = ", ".join(k.value for k in removal.check_types)
    console.print(
        f"{_removed(removal)} in all{span}. Then the SLA status of {kinds} is recomputed "
        "from the history that remains, and the daily aggregates of the days touched are "
        "rolled up again. This cannot be undone.",
        markup=False,
        soft_wrap=True,
    )
    if removal.kept_aggregate_days:
        console.print(_kept_note(removal), markup=False, soft_wrap=True)


def _selected(removal: HistoryRemoval) -> str:
    """The selection's range and check types, as the messages say them."""
    selection = removal.selection
    kinds = ", ".join(selection.kinds) if selection.check_types else "every check type"
    return f"recorded from {_utc(selection.since)} up to {_utc(selection.until)} ({kinds})"


def _removed(removal: HistoryRemoval) -> str:
    results, violations = removal.result_count, removal.violation_count
    return (
        f"{results} check result{'' if results == 1 else 's'} and "
        f"{violations} violation{'' if violations == 1 else 's'}"
    )


def _outcomes(counts: Sequence[Count]) -> dict[str, str]:
    """Per check type: "3 fail, 1 error"."""
    found: dict[str, list[str]] = {}
    for count in counts:
        found.setdefault(count.check_type, []).append(f"{count.rows} {count.outcome}")
    return {kind: ", ".join(parts) for kind, parts in found.items()}


def _day_keys(keys: Sequence[tuple[str, date]]) -> str:
    """(check type, day) pairs by day: "2024-06-01 (availability, freshness); 2024-06-02 (...)"."""
    by_day: dict[date, list[str]] = {}
    for kind, day in keys:
        by_day.setdefault(day, []).append(kind)
    return "; ".join(f"{day.isoformat()} ({', '.join(kinds)})" for day, kinds in by_day.items())


def _kept_note(removal: HistoryRemoval) -> str:
    days = ", ".join(d.isoformat() for d in removal.kept_aggregate_days)
    return (
        f"Kept as they are: the daily aggregates of {days}. Retention already purged the raw "
        "rows of those days, so they cannot be corrected (reports still count those runs)."
    )


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _measure(check_type: ViolationType, value: float) -> str:
    """An SLA status value as people read it: freshness as a duration, the rest as numbers."""
    if value != value or value in (float("inf"), float("-inf")):
        return "no data" if check_type is ViolationType.FRESHNESS else str(value)
    if check_type is ViolationType.FRESHNESS:
        return format_duration(timedelta(seconds=value))
    return f"{value:g}"


def _safe_summary(result: CheckResult) -> str:
    """``summarize``, or nothing when stored details lack what it needs."""
    try:
        return summarize(result)
    except (KeyError, TypeError, ValueError):
        return ""


def _compliance(status: SLAStatus) -> str:
    streak = status.consecutive_failures
    failing = f", {streak} failed in a row" if streak else ""
    return f"{status.check_type.value} {percent(status.compliance_pct)}{failing}"


def _finite(value: Any) -> Any:
    """``value`` with infinite and NaN floats as None, so that it is valid JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _escalation(metadata: dict[str, str]) -> str:
    """Why an event is CRITICAL when its check said ERROR: the breaches counted."""
    if metadata.get("escalated") != "true":
        return ""
    return (
        f" [bold](breach {metadata.get('breaches_in_window', '?')} in the window: escalated)[/bold]"
    )


def _event_detail(message: str, expected: str | None, actual: str | None) -> str:
    if expected is None and actual is None:
        return message
    return f"{message} [dim](expected {expected}, actual {actual})[/dim]"


class SharedCauses:
    """Say a cause shared by several checks once; the later checks point to the first.

    A missing table or an unreachable catalog stops every check that needs it, each with the
    same (often long) message: the first check that errors shows it, the others read
    "table_not_found: the cause given for freshness above".
    """

    def __init__(self) -> None:
        self._first: dict[str, str] = {}  # message -> the check that showed it

    def summarize(self, result: CheckResult) -> str:
        """``summarize(result)``, pointing to an earlier check for a cause already shown."""
        message = str(result.details.get("message") or "")
        if result.status is not CheckStatus.ERROR or not message:
            return summarize(result)
        reason = result.details.get("reason", "error")
        if message in self._first:
            return f"{reason}: {self._given(message)}"
        self._first[message] = result.check_type.value
        return summarize(result)

    def mention(self, text: str) -> str:
        """``text`` with a cause already shown replaced by a pointer to it."""
        for message in self._first:
            if message in text:
                return text.replace(message, self._given(message))
        return text

    def _given(self, message: str) -> str:
        return f"the cause given for {self._first[message]} above"


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
            f"({percent(table['consumed_pct'])} used, via {table['method']})"
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
    failed = [rule for rule in rules if rule.get("status") == "fail"]
    warned = sum(rule.get("severity") in ("info", "warning") for rule in failed)
    score = details.get("quality_score")
    shown = f"quality score {score:.1f}/100; " if isinstance(score, int | float) else ""
    text = f"{shown}{len(rules) - len(failed)} of {len(rules)} rule(s) passed"
    if warned and warned == len(failed):
        if warned == 1:
            return f"{text}; the one that failed is a warning, which does not fail the check"
        return f"{text}; the {warned} that failed are warnings, which do not fail the check"
    if warned:
        are = "is a warning" if warned == 1 else "are warnings"
        return f"{text}; {warned} of the {len(failed)} that failed {are}"
    return text


def _availability(details: dict[str, Any]) -> str:
    target = details.get("target_pct")
    against = f" against a {target:g}% SLA" if target is not None else " (no availability SLA)"
    return (
        f"uptime {percent(details['uptime_pct'])}{against} over {details['probes_in_window']} "
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
