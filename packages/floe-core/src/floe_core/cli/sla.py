"""``floe sla``: check data contracts against their SLAs, and keep the monitored set."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from floe_core.cli._state import CHECK_TYPES, FORMAT, MANIFEST_FOR_STATE, manifest_at, open_store
from floe_core.cli.alerts import channels, silence
from floe_core.cli.db import db
from floe_core.cli.errors import EXIT_USAGE, CliError, reports_floe_errors
from floe_core.cli.monitor import monitor
from floe_core.cli.report import report

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncEngine

    from floe_core.alerting.channels import ConfiguredChannel
    from floe_core.alerting.router import AlertOutcome
    from floe_core.config import AlertConfig
    from floe_core.contracts.model import DataContract
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.events import (
        CheckReport,
        CheckResult,
        ContractViolationEvent,
        SLAStatus,
        ViolationType,
    )
    from floe_core.manifest import PlatformManifest
    from floe_core.state.corrections import HistoryRemoval
    from floe_core.state.remote import RemoteStateStore
    from floe_core.state.run_store import RunStore
    from floe_core.state.url import StateURL
    from floe_core.telemetry.metrics import MonitorMetrics

log = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "error", "critical")

EXIT_OK = 0
EXIT_VIOLATION = 1
#: ``floe sla history --delete`` declined at its prompt: nothing deleted.
EXIT_DECLINED = 1


@click.group()
def sla() -> None:
    """Check ODCS data contracts against their live Iceberg tables.

    Every check run is recorded in the state database ($FLOE_STATE_URL, else state.url in
    the manifest, else ./.floe/state.db), which escalation, SLA status and reports read.

    \b
    A typical session:
      floe sla check contracts/orders.yaml        check now; exit 1 on a breach
      floe sla status orders                      rolling 24 h SLA status
      floe sla history orders --since 7d          what ran and what broke
      floe sla report --window weekly             compliance, coverage and trends
      floe sla db purge                           roll up and expire old history (cron)
      floe sla monitor                            run every registered contract's checks
                                                  on schedule (health, metrics, alerts)
    """


sla.add_command(db)
sla.add_command(report)
sla.add_command(silence)
sla.add_command(channels)
sla.add_command(monitor)


@sla.command()
@click.argument("contract_file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=str),
    help="Platform manifest naming the catalog. Default: $FLOE_MANIFEST, else ./manifest.yaml, "
    "else the contract's iceberg server, else the embedded catalog under ./.floe/.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(CHECK_TYPES),
    help="Run only this check; repeat for several. Default: all of them.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json prints one object: contract_name, contract_version, "
    "results, violations.",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="error",
    show_default=True,
    help="Exit 1 when a violation reaches this severity.",
)
@click.option(
    "--no-persist",
    "no_persist",
    is_flag=True,
    help="Do not read or write the state database: no history, no escalation to CRITICAL.",
)
@click.option(
    "--alert",
    is_flag=True,
    help="Send what the run found to the manifest's alert channels (plugins.alert_channels, "
    "routed by data_contracts.monitoring.alerts). Without it nothing is sent.",
)
@reports_floe_errors
def check(
    contract_file: str,
    manifest_path: str | None,
    checks: tuple[str, ...],
    fmt: str,
    fail_on: str,
    no_persist: bool,
    alert: bool,
) -> None:
    """Check CONTRACT_FILE (an ODCS v3 YAML contract) against its live Iceberg tables now.

    \b
    Checks (all by default):
      freshness     age of the newest data against the latency (or freshness) SLA in
                    slaProperties; INFO at 80% of the SLA used, WARNING at 90%, ERROR
                    once it is exceeded (beyond clock_skew_tolerance_seconds)
      schema_drift  the live table schema against the contract's properties: columns
                    added, removed, retyped, nullability and primary-key changes
      quality       the contract's ODCS quality rules (library metrics and sql), answered
                    from Iceberg metadata where exact, else in one DuckDB pass
      availability  the catalog answers, every table's metadata loads and the compute
                    engine responds, against the availability SLA; a missing table or an
                    unreachable catalog is an availability violation
      deprecation   status deprecated/retired and the endOfSupport/endOfLife dates

    \b
    History: every run is persisted to the state database ($FLOE_STATE_URL, else
    state.url in the manifest, else ./.floe/state.db). A breach that is the fourth of
    its type for the contract within 24 h (severity_thresholds: critical_count,
    critical_window_hours) is escalated to CRITICAL. When the database cannot be used
    the checks still run and report, one line on stderr says so, and the exit status
    is what the checks decide. --no-persist leaves the database alone.

    \b
    Alerts (--alert): each configured channel whose routing rule selects a violation
    gets the run's violations as one notification. A violation already alerted within
    dedup_window_minutes is not sent again unless its severity rose or its elements
    changed; at most rate_limit_per_contract notifications per contract and channel in
    rate_limit_window_minutes; channels with send_resolved hear once when an alerted
    violation is over; silenced violations are recorded, not sent. What was sent,
    suppressed or failed is listed (json: "alerts"). A failed delivery never changes
    the exit status. Without the state database nothing is deduplicated.

    \b
    Traces and lineage: with OTEL_EXPORTER_OTLP_ENDPOINT set, the run's spans go to
    that OTLP/HTTP collector (OTEL_METRICS_EXPORTER=otlp sends its metrics too); with
    plugins.lineage_backend in the manifest (or OPENLINEAGE_URL), each check with a
    violation is an OpenLineage START and FAIL. Neither ever changes a result or the
    exit status: an endpoint that does not answer is one warning.

    \b
    Exit status:
      0  no violation reaches --fail-on
      1  a violation reaches --fail-on
      2  floe could not check: bad option, manifest or contract, or a check that
         errored or timed out (with no violation reaching --fail-on)

    \b
    Examples:
      floe sla check contracts/orders.yaml
      floe sla check contracts/orders.yaml --check freshness --format json
      floe sla check contracts/orders.yaml --manifest prod.yaml --fail-on warning
    """
    # First of all, so that it loads SQLAlchemy on another core while this process goes on.
    worker = None if no_persist or alert or _sqlalchemy_loaded() else _start_state_worker()
    from floe_core.contracts.loader import load_contract

    manifest = manifest_at(manifest_path)
    state = None if no_persist else _state_for_check(manifest, worker)
    contract = load_contract(contract_file)
    channels = _alert_channels(manifest) if alert else None
    if not checks or {"quality", "availability"} & set(checks):
        from floe_core.duckdb_worker.client import prestart

        prestart()  # DuckDB starts on another core while floe connects the catalog

    import asyncio

    from floe_core.cli.output import make_output

    metrics = _export_metrics_if_asked()
    report, alerts = asyncio.run(_run_checks(manifest, contract, checks, state, channels, metrics))

    status, verdict = judge(report, fail_on)
    errors = [r for r in report.results if r.status.value == "error"]
    # When nothing could run, the one error message says it all; otherwise show the results.
    if fmt == "json" or len(errors) < len(report.results):
        make_output(fmt).check_report(report, verdict, alerts)
    if status == EXIT_USAGE:
        messages = {str(r.details.get("message") or r.details.get("reason")) for r in errors}
        raise CliError(" ".join(sorted(messages)))
    raise SystemExit(status)


def _sqlalchemy_loaded() -> bool:
    """Whether this process has SQLAlchemy already (floe called from Python that uses it):
    then the state database is opened here, as a worker would only cost a process."""
    import sys

    return "sqlalchemy" in sys.modules


def _start_state_worker() -> RemoteStateStore | None:
    """The state worker, let go when the command ends (however it ends); None if it cannot
    be started, and the database is opened in this process instead."""
    from floe_core.errors import StateError
    from floe_core.state.remote import RemoteStateStore

    try:
        worker = RemoteStateStore(on_unusable=_not_persisted)
    except StateError as exc:
        log.debug("%s; the state database is opened in floe's own process", exc)
        return None
    click.get_current_context().call_on_close(worker.close)
    return worker


def _state_for_check(
    manifest: PlatformManifest | None, worker: RemoteStateStore | None
) -> StateURL | RemoteStateStore:
    """The state database of one ``floe sla check``: opened by the state worker, or when
    there is none (``--alert`` needs the database here too, or SQLAlchemy is loaded here
    already) its URL, to open here."""
    if worker is None:
        from floe_core.state.url import resolve_state_url

        return resolve_state_url(manifest)
    from floe_core.state.url import configured_state_url

    return worker.open(configured_state_url(manifest))


def _not_persisted(reason: str, display: str) -> None:
    log.warning(
        "check results not persisted: %s; the checks ran and are reported, without "
        "history (no escalation to CRITICAL); --no-persist skips the state database",
        reason,
        extra={"floe.state.url": display},
    )


def _export_metrics_if_asked() -> MonitorMetrics | None:
    """With ``OTEL_METRICS_EXPORTER=otlp`` (or ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``), the
    run's metrics, sent over OTLP once when the command ends (2 s at most for a collector
    that does not answer); without any ``OTEL_*`` variable nothing is imported."""
    import os

    if not any(name.startswith("OTEL_") for name in os.environ):
        return None
    from floe_core.telemetry.otlp_metrics import one_off

    export = one_off()
    if export is None:
        return None
    click.get_current_context().call_on_close(export.shutdown)
    return export.metrics


def _alert_channels(manifest: PlatformManifest | None) -> list[ConfiguredChannel]:
    """The manifest's alert channels, built and validated before any check runs."""
    from floe_core.alerting.channels import build_channels

    if manifest is None or not manifest.plugins.alert_channels:
        log.warning(
            "--alert: no alert channel is configured (plugins.alert_channels in the "
            "manifest), so nothing will be sent"
        )
        return []
    return build_channels(manifest.plugins.alert_channels, source=manifest.source)


async def _run_checks(
    manifest: PlatformManifest | None,
    contract: DataContract,
    checks: tuple[str, ...],
    state: StateURL | RemoteStateStore | None,
    channels: list[ConfiguredChannel] | None = None,
    metrics: MonitorMetrics | None = None,
) -> tuple[CheckReport, list[AlertOutcome] | None]:
    """Run the checks, persisting to ``state`` if it can be opened; degrade if it cannot.

    ``state`` is the state worker's store, or a URL to open here (``--alert``).

    With ``channels`` (``--alert``), route what the run found to them; with ``metrics``,
    count the run, its alerts and its lost lineage events there.
    """
    from floe_core.errors import StateError
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.state.remote import RemoteStateStore

    engine = None
    store: RunStore | None = None
    if isinstance(state, RemoteStateStore):
        store = state
    elif state is not None:
        from floe_core.state.engine import open_state
        from floe_core.state.store import StateStore

        try:
            engine = await open_state(state, auto_upgrade=state.embedded)
        except StateError as exc:
            _not_persisted(str(exc), state.display)
        if engine is not None:
            store = StateStore(engine)
    try:
        monitor = ContractMonitor.from_manifest(manifest, state=store)
        if metrics is not None:
            monitor.on_lineage_failure = metrics.lineage_failed
        registered = monitor.register(contract)
        report = await monitor.run(registered.contract_name, checks or None)
        monitor.flush_lineage()  # its OpenLineage events, if a backend is set (2 s at most)
        if metrics is not None:
            metrics.report_finished(report)
        if channels is None:
            return report, None
        outcomes = await _route(report, channels, monitor.config.alerts, engine)
        if metrics is not None:
            for outcome in outcomes:
                metrics.alert_delivered(outcome.channel, outcome.status)
        return report, outcomes
    finally:
        if engine is not None:
            await engine.dispose()


async def _route(
    report: CheckReport,
    channels: list[ConfiguredChannel],
    alerts: AlertConfig,
    engine: AsyncEngine | None,
) -> list[AlertOutcome]:
    """Route ``report``'s violations; the checks that measured something can be resolved."""
    from floe_core.alerting.router import AlertRouter
    from floe_core.state.alerts import AlertLedger

    ledger = AlertLedger(engine) if engine is not None else None
    router = AlertRouter(channels, alerts, ledger=ledger)
    measured = [r.check_type.value for r in report.results if r.status.value in ("pass", "fail")]
    try:
        return await router.route(
            report.contract_name, report.contract_version, report.violations, measured
        )
    finally:
        for channel in channels:
            await channel.plugin.aclose()


def judge(report: CheckReport, fail_on: str) -> tuple[int, str]:
    """The exit status for a report, and a sentence saying why."""
    from floe_core.events import CheckStatus, ViolationSeverity

    floor = ViolationSeverity(fail_on)
    failing = [v for v in report.violations if v.severity.rank >= floor.rank]
    errored = [r for r in report.results if r.status is CheckStatus.ERROR]
    counts = ", ".join(
        f"{sum(v.severity is s for v in report.violations)} {s.value}"
        for s in reversed(ViolationSeverity)
        if any(v.severity is s for v in report.violations)
    )
    found = f"{len(report.violations)} violation(s) ({counts})" if counts else "no violations"
    if failing:
        return EXIT_VIOLATION, f"FAIL: {found}; {len(failing)} at or above {fail_on} → exit 1"
    if errored:
        names = ", ".join(r.check_type.value for r in errored)
        return EXIT_USAGE, f"ERROR: could not run {names}; {found} → exit 2"
    return EXIT_OK, f"OK: {found}, none at or above {fail_on} → exit 0"


@sla.command()
@click.argument("contract_file", type=click.Path(dir_okay=False, path_type=str))
@MANIFEST_FOR_STATE
@FORMAT
@reports_floe_errors
def register(contract_file: str, manifest_path: str | None, fmt: str) -> None:
    """Add CONTRACT_FILE (an ODCS v3 YAML contract) to the monitored set in the state database.

    Registering a contract again replaces it (a new version, say) and keeps its history.

    \b
    Example:
      floe sla register contracts/orders.yaml
    """
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.contracts.loader import load_contract
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.state.url import resolve_state_url

    manifest = manifest_at(manifest_path)
    registered = ContractMonitor.from_manifest(manifest).register(load_contract(contract_file))
    state = resolve_state_url(manifest)

    async def run() -> RegisteredContract:
        async with open_store(state) as store:
            await store.register_contract(registered)
            return await store.get_contract(registered.contract_name) or registered

    make_output(fmt).registered(asyncio.run(run()), state.display)


@sla.command()
@click.argument("name")
@MANIFEST_FOR_STATE
@FORMAT
@reports_floe_errors
def unregister(name: str, manifest_path: str | None, fmt: str) -> None:
    """Remove contract NAME from the monitored set; its history and SLA status stay.

    \b
    Example:
      floe sla unregister orders
    """
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.state.url import resolve_state_url

    state = resolve_state_url(manifest_at(manifest_path))

    async def run() -> bool:
        async with open_store(state) as store:
            return await store.unregister_contract(name)

    if not asyncio.run(run()):
        raise CliError(
            f"contract '{name}' is not registered in the state database {state.display}; "
            "`floe sla list` shows the registered contracts"
        )
    make_output(fmt).unregistered(name, state.display)


@sla.command("list")
@MANIFEST_FOR_STATE
@FORMAT
@reports_floe_errors
def list_command(manifest_path: str | None, fmt: str) -> None:
    """List the registered contracts with their last checks and rolling 24 h SLA status.

    \b
    Example:
      floe sla list --format json
    """
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.state.url import resolve_state_url

    state = resolve_state_url(manifest_at(manifest_path))

    async def run() -> tuple[list[RegisteredContract], list[SLAStatus]]:
        async with open_store(state) as store:
            return await store.list_contracts(), await store.sla_statuses()

    contracts, statuses = asyncio.run(run())
    make_output(fmt).contracts(contracts, statuses, state.display)


@sla.command()
@click.argument("name", required=False)
@MANIFEST_FOR_STATE
@FORMAT
@reports_floe_errors
def status(name: str | None, manifest_path: str | None, fmt: str) -> None:
    """Show the current SLA status of every contract, or of contract NAME.

    One row per (contract, check type): current value, threshold, 24 h compliance,
    failures in a row, breaches in 24 h and the last check time. JSON: {"statuses": [...]}.

    \b
    Examples:
      floe sla status
      floe sla status orders --format json
    """
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.state.url import resolve_state_url

    state = resolve_state_url(manifest_at(manifest_path))

    async def run() -> list[SLAStatus]:
        async with open_store(state) as store:
            return await store.sla_statuses(name)

    make_output(fmt).sla_statuses(asyncio.run(run()), name, state.display)


@sla.command()
@click.argument("name")
@click.option(
    "--since",
    default=None,
    help="From this ISO date or datetime (UTC unless it says otherwise), today, yesterday, or "
    "this long ago: 6h, 7d, PT6H. Default for the listing: 24h; --delete needs it.",
)
@click.option(
    "--until",
    default=None,
    help="Up to, not including, this time (the same forms as --since). Default: now.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(CHECK_TYPES),
    help="Only this check type; repeat for several. Default: all of them.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Show at most this many check results and this many violations (not with --delete).",
)
@click.option(
    "--delete",
    is_flag=True,
    help="Delete the check results and violations in the range, after showing them and "
    "asking: see Correcting history above.",
)
@click.option("--yes", is_flag=True, help="With --delete: delete without asking.")
@MANIFEST_FOR_STATE
@FORMAT
@reports_floe_errors
def history(
    name: str,
    since: str | None,
    until: str | None,
    checks: tuple[str, ...],
    limit: int | None,
    delete: bool,
    yes: bool,
    manifest_path: str | None,
    fmt: str,
) -> None:
    """Show the check results and violations of contract NAME, newest first; or delete them.

    Listing: from --since (default: the last 24 h) up to --until (default: now), of the
    --check types (default: all). JSON: {"contract_name", "results": [...], "violations":
    [...]}.

    Correcting history (--delete): removes the contract's check results recorded from
    --since up to (not including) --until, and their violations, so that bad runs (from a
    misconfigured check, say) stop escalating breaches to CRITICAL and counting in SLA
    status and reports. --since is required: there is no default range to delete. --until
    defaults to now; `--since 2024-06-01 --until 2024-06-02` is the whole of 1 June (UTC).
    --check narrows it to some check types. It first shows what it will delete (per check
    type and status, and the time span) and asks; --yes deletes without asking, and is
    needed when stdin is not a terminal (without it floe refuses, exit 2). Then, in one
    transaction, it deletes, recomputes the SLA status of each check type touched from the
    history that remains (as its last remaining run left it; none left: the status row
    goes) and rolls the days touched up into their daily aggregates again. Days whose raw
    rows retention already purged keep their aggregates as they are (they are listed).
    Each deletion is logged as a WARNING on stderr, with who ran it. JSON: one object
    saying what was removed and recomputed.

    \b
    Exit status of --delete:
      0  deleted, or nothing in the range to delete
      1  declined at the prompt: nothing deleted
      2  a bad option, a contract with no history at all, no terminal to ask on
         without --yes, or a database that cannot be used

    \b
    Examples:
      floe sla history orders
      floe sla history orders --since 7d --limit 20 --check freshness
      floe sla history orders --since 2024-06-01 --until 2024-06-02 --format json
      floe sla history orders --delete --since 2024-06-01T08:00Z --check availability
    """
    from datetime import UTC, datetime

    from floe_core.events import ViolationType
    from floe_core.state.url import resolve_state_url

    _check_history_options(since, limit, delete, yes)
    now = datetime.now(UTC)
    start = parse_since(since or "24h", now)
    end = parse_since(until, now, "--until") if until is not None else None
    if end is not None and end <= start:
        raise click.BadParameter(
            f"'{until}' ({end:%Y-%m-%d %H:%M:%S} UTC) is not after --since "
            f"({start:%Y-%m-%d %H:%M:%S} UTC): give an --until later than --since",
            param_hint="'--until'",
        )
    kinds = tuple(ViolationType(c) for c in dict.fromkeys(checks))
    state = resolve_state_url(manifest_at(manifest_path))
    if delete:
        _delete_history(name, start, end or now, kinds, state, fmt, ask=not yes)
    else:
        _list_history(name, start, end, kinds, limit, state, fmt)


def _check_history_options(since: str | None, limit: int | None, delete: bool, yes: bool) -> None:
    """Refuse the option combinations ``floe sla history`` cannot mean."""
    if delete and since is None:
        raise click.UsageError(
            "--delete needs --since, where the history to delete starts (2024-06-01T08:00Z, "
            "6h, ...): it has no default range. `floe sla history NAME --since ...` without "
            "--delete shows what is there."
        )
    if delete and limit is not None:
        raise click.UsageError(
            "--limit only caps the listing; --delete deletes everything in the range. Narrow "
            "it with --since, --until and --check instead."
        )
    if yes and not delete:
        raise click.UsageError("--yes only goes with --delete, whose question it answers.")


def _list_history(
    name: str,
    start: datetime,
    end: datetime | None,
    kinds: tuple[ViolationType, ...],
    limit: int | None,
    state: StateURL,
    fmt: str,
) -> None:
    import asyncio

    from floe_core.cli.output import make_output

    async def run() -> tuple[list[CheckResult], list[ContractViolationEvent]]:
        async with open_store(state) as store:
            return (
                await store.recent_results(name, start, limit, until=end, check_types=kinds),
                await store.recent_violations(name, start, limit, until=end, check_types=kinds),
            )

    results, violations = asyncio.run(run())
    make_output(fmt).history(name, results, violations, start, state.display)
    if end is not None and fmt != "json":
        click.echo(f"(Up to {end:%Y-%m-%d %H:%M:%S} UTC, --until.)")


def _delete_history(
    name: str,
    start: datetime,
    end: datetime,
    kinds: tuple[ViolationType, ...],
    state: StateURL,
    fmt: str,
    *,
    ask: bool,
) -> None:
    """Show what is in the range, ask (unless told not to), delete, say what was done."""
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.monitoring.corrections import (
        HistoryCorrection,
        correct_history,
        preview_correction,
    )
    from floe_core.state.corrections import HistorySelection

    selection = HistorySelection(name, start, end, kinds)

    async def preview() -> HistoryRemoval:
        async with open_store(state) as store:
            return await preview_correction(store, selection)

    async def correct() -> HistoryCorrection:
        async with open_store(state) as store:
            return await correct_history(store, selection)

    removal = asyncio.run(preview())
    if not removal.contract_known:
        raise CliError(
            f"contract '{name}' has nothing recorded in the state database {state.display}, "
            "so there is nothing to delete. Check the name: `floe sla status` lists the "
            "contracts with an SLA status, `floe sla list` the registered ones."
        )
    if removal.empty:
        correction = HistoryCorrection(removal)
    else:
        if ask:
            _confirm_removal(removal, state.display, err=fmt == "json")
        correction = asyncio.run(correct())
    make_output(fmt).history_corrected(correction, state.display)


def _confirm_removal(removal: HistoryRemoval, state: str, *, err: bool) -> None:
    """Show ``removal`` and ask; exit 1 when declined, refuse (exit 2) with nobody to ask."""
    import sys

    from floe_core.cli.output import removal_preview

    if sys.stdin is None or not sys.stdin.isatty():
        raise CliError(
            f"--delete would remove {removal.result_count} check result(s) and "
            f"{removal.violation_count} violation(s) of contract "
            f"'{removal.selection.contract_name}', and asks first, but stdin is not a "
            "terminal to ask on. Run it at a terminal, or add --yes to delete without asking."
        )
    removal_preview(removal, state, err=err)
    if not click.confirm("Delete them?", default=False, err=err):
        click.echo("Nothing deleted.", err=True)
        raise SystemExit(EXIT_DECLINED)


def parse_since(value: str, now: datetime, option: str = "--since") -> datetime:
    """A point in time: an ISO date (midnight UTC), an ISO datetime (naive is UTC), ``today``,
    ``yesterday`` (midnight UTC of that day) or a duration ago (``6h``, ``7d``, ``PT6H``)."""
    from datetime import UTC, date, datetime, timedelta

    from floe_core._time import as_utc
    from floe_core.contracts.durations import DurationError, parse_duration

    text = value.strip()
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    days_ago = {"today": 0, "yesterday": 1}.get(text.lower())
    if days_ago is not None:
        return midnight - timedelta(days=days_ago)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return as_utc(moment)
    try:
        return now - parse_duration(text, None)
    except (DurationError, OverflowError):
        raise click.BadParameter(
            f"'{value}' is not a time floe understands. Give an ISO date or datetime "
            "(2024-06-01, 2024-06-01T12:00Z; UTC unless it says otherwise), today, yesterday, "
            "or a duration ago: a number and a unit (90m, 6h, 7d, 2w) or ISO-8601 (PT6H).",
            param_hint=f"'{option}'",
        ) from None
