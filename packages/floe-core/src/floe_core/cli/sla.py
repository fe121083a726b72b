"""``floe sla``: check data contracts against their SLAs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from floe_core.cli.errors import EXIT_USAGE, CliError, reports_floe_errors

if TYPE_CHECKING:
    from floe_core.monitoring.models import CheckReport

# Check types this floe-core runs; kept here (not imported) so that --help stays fast.
CHECK_TYPES = ("freshness", "schema_drift", "quality", "availability", "deprecation")
SEVERITIES = ("info", "warning", "error", "critical")

EXIT_OK = 0
EXIT_VIOLATION = 1


@click.group()
def sla() -> None:
    """Check ODCS data contracts against their live Iceberg tables."""


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
@reports_floe_errors
def check(
    contract_file: str, manifest_path: str | None, checks: tuple[str, ...], fmt: str, fail_on: str
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
    import asyncio

    from floe_core.cli.output import make_output
    from floe_core.contracts.loader import load_contract
    from floe_core.manifest import find_manifest, load_manifest
    from floe_core.monitoring.monitor import ContractMonitor

    manifest_file = find_manifest(manifest_path)
    manifest = load_manifest(manifest_file) if manifest_file is not None else None
    contract = load_contract(contract_file)
    monitor = ContractMonitor.from_manifest(manifest)
    registered = monitor.register(contract)
    report = asyncio.run(monitor.run(registered.contract_name, checks or None))

    status, verdict = judge(report, fail_on)
    errors = [r for r in report.results if r.status.value == "error"]
    # When nothing could run, the one error message says it all; otherwise show the results.
    if fmt == "json" or len(errors) < len(report.results):
        make_output(fmt).check_report(report, verdict)
    if status == EXIT_USAGE:
        messages = {str(r.details.get("message") or r.details.get("reason")) for r in errors}
        raise CliError(" ".join(sorted(messages)))
    raise SystemExit(status)


def judge(report: CheckReport, fail_on: str) -> tuple[int, str]:
    """The exit status for a report, and a sentence saying why."""
    from floe_core.monitoring.models import CheckStatus, ViolationSeverity

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
