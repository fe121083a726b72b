"""``floe sla db``: manage the monitoring-state database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from floe_core.cli._state import FORMAT, MANIFEST_FOR_STATE, manifest_at, open_store
from floe_core.cli.errors import reports_floe_errors

if TYPE_CHECKING:
    from datetime import date


@click.group()
def db() -> None:
    """Manage the database that keeps monitoring state (check history, SLA status).

    \b
    Where it is: $FLOE_STATE_URL, else state.url in the manifest, else the embedded
    SQLite file ./.floe/state.db (created and upgraded on first use). A PostgreSQL
    database must be upgraded with `floe sla db upgrade` before floe uses it; run
    `floe sla db purge` daily (cron) to roll history up and expire old raw rows.
    """


@db.command("upgrade")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=str),
    help="Platform manifest whose state.url names the database. Default: $FLOE_MANIFEST, "
    "else ./manifest.yaml. $FLOE_STATE_URL overrides either.",
)
@reports_floe_errors
def upgrade_command(manifest_path: str | None) -> None:
    """Create the monitoring-state tables, or upgrade them to this floe's schema.

    Safe to run again: a database already up to date is left as it is.

    \b
    Examples:
      FLOE_STATE_URL=postgresql://floe@db.internal/floe floe sla db upgrade
      floe sla db upgrade --manifest prod.yaml
    """
    import asyncio

    from floe_core.state.engine import upgrade
    from floe_core.state.url import resolve_state_url

    state = resolve_state_url(manifest_at(manifest_path))
    result = asyncio.run(upgrade(state))
    click.echo(f"State database: {state.display} (from {state.origin})")
    if result.changed:
        start = f"revision {result.before}" if result.before else "an empty database"
        click.echo(f"Upgraded from {start} to revision {result.after}.")
    else:
        click.echo(f"Already up to date at revision {result.after}.")


@db.command("purge")
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep raw check results and violations this many days. Default: "
    "data_contracts.monitoring.retention_days in the manifest, else 90.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would be rolled up and deleted, and change nothing.",
)
@FORMAT
@MANIFEST_FOR_STATE
@reports_floe_errors
def purge_command(
    retention_days: int | None, dry_run: bool, fmt: str, manifest_path: str | None
) -> None:
    """Roll check history up into daily aggregates, then delete raw rows past retention.

    Every complete day (UTC) is summarised into contract_daily_aggregates, which are kept
    forever and serve `floe sla report` for older periods; then raw check results and
    violations older than the retention period are deleted. One day at a time, each in its
    own transaction: safe to interrupt, and running it again does nothing new. The
    long-running monitor does this daily; run it from cron when you only use `floe sla check`.

    \b
    Examples:
      floe sla db purge
      floe sla db purge --retention-days 30 --dry-run
    """
    import asyncio
    import json

    from floe_core.state.retention import RetentionResult, apply_retention
    from floe_core.state.url import resolve_state_url

    manifest = manifest_at(manifest_path)
    days = retention_days or (
        manifest.data_contracts.monitoring.retention_days if manifest is not None else 90
    )
    state = resolve_state_url(manifest)

    async def run() -> RetentionResult:
        async with open_store(state) as store:
            return await apply_retention(store.engine, days, dry_run=dry_run)

    done = asyncio.run(run())
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "state": state.display,
                    "dry_run": done.dry_run,
                    "retention_days": done.retention_days,
                    "cutoff": done.cutoff.isoformat(),
                    "rolled_up_days": [d.isoformat() for d in done.rolled_up_days],
                    "aggregate_rows": done.aggregate_rows,
                    "purged_days": [d.isoformat() for d in done.purged_days],
                    "deleted_check_results": done.deleted_results,
                    "deleted_violations": done.deleted_violations,
                },
                indent=2,
            )
        )
        return
    would = "Would roll" if dry_run else "Rolled"
    click.echo(f"State database: {state.display} (from {state.origin})")
    rolled = _days(done.rolled_up_days)
    click.echo(f"{would} up {rolled} into {done.aggregate_rows} daily aggregate rows.")
    would = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{would} {done.deleted_results} check results and {done.deleted_violations} violations "
        f"from before {done.cutoff.isoformat()} ({done.retention_days}-day retention)"
        + (f": {_days(done.purged_days)}." if done.purged_days else ".")
    )


def _days(days: list[date]) -> str:
    if not days:
        return "no days"
    if len(days) == 1:
        return f"1 day ({days[0].isoformat()})"
    return f"{len(days)} days ({days[0].isoformat()} to {days[-1].isoformat()})"
