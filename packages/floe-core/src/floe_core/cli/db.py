"""``floe sla db``: manage the monitoring-state database."""

from __future__ import annotations

import click

from floe_core.cli.errors import reports_floe_errors


@click.group()
def db() -> None:
    """Manage the database that keeps monitoring state (check history, SLA status).

    \b
    Where it is: $FLOE_STATE_URL, else state.url in the manifest, else the embedded
    SQLite file ./.floe/state.db (created and upgraded on first use). A PostgreSQL
    database must be upgraded with `floe sla db upgrade` before floe uses it.
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

    from floe_core.manifest import find_manifest, load_manifest
    from floe_core.state.engine import upgrade
    from floe_core.state.url import resolve_state_url

    manifest_file = find_manifest(manifest_path)
    manifest = load_manifest(manifest_file) if manifest_file is not None else None
    state = resolve_state_url(manifest)
    result = asyncio.run(upgrade(state))
    click.echo(f"State database: {state.display} (from {state.origin})")
    if result.changed:
        start = f"revision {result.before}" if result.before else "an empty database"
        click.echo(f"Upgraded from {start} to revision {result.after}.")
    else:
        click.echo(f"Already up to date at revision {result.after}.")
