"""``floe sla silence`` and ``floe sla channels``: mute known problems, see and test channels."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from floe_core.cli._state import CHECK_TYPES, FORMAT, MANIFEST_FOR_STATE, manifest_at
from floe_core.cli.errors import CliError, reports_floe_errors

if TYPE_CHECKING:
    from floe_core.manifest import AlertChannelSpec
    from floe_core.plugins.registry import PluginRegistry
    from floe_core.state.alerts import AlertLedger, Silence
    from floe_core.state.url import StateURL

MANIFEST_WITH_CHANNELS = click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False, path_type=str),
    help="Platform manifest with plugins.alert_channels. Default: $FLOE_MANIFEST, else "
    "./manifest.yaml.",
)


@click.group()
def silence() -> None:
    """Mute alerts of a known problem for a while: its violations are recorded, not sent.

    \b
    Silences live in the state database, so every floe process and replica honours them.
    \b
    Examples:
      floe sla silence add --contract 'orders*' --type freshness --duration 2h \\
          --comment "backfill until 14:00, INC-123"
      floe sla silence list --format json
      floe sla silence expire 3f9a1c2e
    """


@silence.command("add")
@click.option("--contract", "pattern", required=True, help="Contract name or glob ('orders*').")
@click.option(
    "--type", "violation_type", type=click.Choice(CHECK_TYPES), help="Only this violation type."
)
@click.option("--duration", required=True, help="How long from now: 30m, 2h, 1d, PT2H.")
@click.option("--comment", required=True, help="Why, for whoever reads the list later.")
@MANIFEST_FOR_STATE
@reports_floe_errors
def silence_add(
    pattern: str,
    violation_type: str | None,
    duration: str,
    comment: str,
    manifest_path: str | None,
) -> None:
    """Silence the violations of contracts matching --contract, from now for --duration.

    Prints the silence's id (for `floe sla silence expire`).
    """
    from datetime import UTC, datetime

    from floe_core.contracts.durations import DurationError, parse_duration

    try:
        length = parse_duration(duration.strip(), None)
    except (DurationError, OverflowError) as exc:
        raise click.BadParameter(
            f"'{duration}' is not a duration (30m, 2h, 1d, PT2H): {exc}",
            param_hint="'--duration'",
        ) from None
    if not comment.strip():
        raise click.BadParameter("say why the alerts are muted", param_hint="'--comment'")
    now = datetime.now(UTC)
    made = _with_ledger(
        manifest_path,
        lambda ledger: ledger.add_silence(pattern, violation_type, now, now + length, comment),
    )
    click.echo(made.id)


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include silences that have ended.")
@FORMAT
@MANIFEST_FOR_STATE
@reports_floe_errors
def silence_list(show_all: bool, fmt: str, manifest_path: str | None) -> None:
    """The silences in force (with --all, every one), soonest ending first."""
    from datetime import UTC, datetime

    active_at = None if show_all else datetime.now(UTC)
    found: list[Silence] = _with_ledger(manifest_path, lambda ledger: ledger.silences(active_at))
    if fmt == "json":
        click.echo(json.dumps({"silences": [s.to_dict() for s in found]}, indent=2))
        return
    if not found:
        click.echo("No silence in force." if not show_all else "No silences.")
        return
    for one in found:
        what = f"{one.contract} {one.violation_type or 'all types'}"
        click.echo(
            f"{one.id}  {what}  {one.starts_at:%Y-%m-%d %H:%M} → {one.ends_at:%Y-%m-%d %H:%M} "
            f"UTC  {one.comment}"
        )


@silence.command("expire")
@click.argument("silence_id")
@MANIFEST_FOR_STATE
@reports_floe_errors
def silence_expire(silence_id: str, manifest_path: str | None) -> None:
    """End the silence SILENCE_ID now."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    if not _with_ledger(manifest_path, lambda ledger: ledger.expire_silence(silence_id, now)):
        raise CliError(f"no silence '{silence_id}'; `floe sla silence list --all` shows them")
    click.echo(f"Silence {silence_id} has ended.")


def _with_ledger(manifest_path: str | None, action: Any) -> Any:
    """Run ``action(ledger)`` on the state database the manifest (or environment) names."""
    import asyncio

    from floe_core.state.url import resolve_state_url

    state = resolve_state_url(manifest_at(manifest_path))
    return asyncio.run(_run(state, action))


async def _run(state: StateURL, action: Any) -> Any:
    from floe_core.state.alerts import AlertLedger
    from floe_core.state.engine import open_state

    engine = await open_state(state, auto_upgrade=state.embedded)
    try:
        ledger: AlertLedger = AlertLedger(engine)
        return await action(ledger)
    finally:
        await engine.dispose()


@click.group(invoke_without_command=True)
@FORMAT
@MANIFEST_WITH_CHANNELS
@click.pass_context
@reports_floe_errors
def channels(ctx: click.Context, fmt: str, manifest_path: str | None) -> None:
    """List the installed alert channel types and the manifest's channels, with their health.

    \b
    Examples:
      floe sla channels
      floe sla channels --format json
      floe sla channels test data-oncall      send a test alert to one channel
    """
    if ctx.invoked_subcommand is not None:
        return
    from floe_core.plugins.registry import get_registry
    from floe_core.plugins.types import PluginType

    registry = get_registry()
    installed = registry.names(PluginType.ALERT_CHANNEL)
    manifest = manifest_at(manifest_path)
    specs = manifest.plugins.alert_channels if manifest else []
    configured = [_describe(spec, registry, installed) for spec in specs]
    if fmt == "json":
        click.echo(json.dumps({"installed": installed, "configured": configured}, indent=2))
        return
    click.echo(f"Installed channel types: {', '.join(installed) or 'none'}")
    if not configured:
        click.echo("No channel configured (plugins.alert_channels in the manifest).")
    for entry in configured:
        health = entry["health"] or {"state": "not checked", "message": ""}
        said = f"{health['state']}: {health['message']}" if health["message"] else health["state"]
        problems = "; ".join(entry["problems"]) or "config valid"
        click.echo(f"{entry['name']} ({entry['type']}): {problems}; health {said}")


def _describe(
    spec: AlertChannelSpec, registry: PluginRegistry, installed: list[str]
) -> dict[str, Any]:
    """One configured channel for ``floe sla channels``: its problems and health."""
    from floe_core.plugins.alert_channel import AlertChannelPlugin
    from floe_core.plugins.types import PluginType

    entry: dict[str, Any] = {
        "name": spec.name,
        "type": spec.type,
        "send_resolved": spec.send_resolved,
    }
    if spec.type not in installed:
        hint = f"type '{spec.type}' is not installed: pip install floe-alert-{spec.type}"
        return {**entry, "problems": [hint], "health": None}
    plugin = registry.get(PluginType.ALERT_CHANNEL, spec.type)(spec.config)  # type: ignore[call-arg]
    assert isinstance(plugin, AlertChannelPlugin)
    problems = [plugin.scrub(problem) for problem in plugin.validate_config()]
    if problems:
        return {**entry, "problems": problems, "health": None}
    health = plugin.health_check(5.0)
    said = {"state": health.state.value, "message": plugin.scrub(health.message)}
    return {**entry, "problems": [], "health": said}


@channels.command("test")
@click.argument("name")
@MANIFEST_WITH_CHANNELS
@reports_floe_errors
def channels_test(name: str, manifest_path: str | None) -> None:
    """Send a clearly marked test alert to the configured channel NAME.

    Exit status: 0 delivered, 1 the channel reported a failure, 2 no such channel or an
    invalid config.
    """
    import asyncio
    from datetime import UTC, datetime

    from floe_core.alerting.channels import build_channels
    from floe_core.events import ContractViolationEvent, ViolationSeverity, ViolationType

    manifest = manifest_at(manifest_path)
    specs = [s for s in (manifest.plugins.alert_channels if manifest else []) if s.name == name]
    if not specs:
        known = ", ".join(s.name for s in manifest.plugins.alert_channels) if manifest else ""
        raise CliError(
            f"no alert channel named '{name}' in the manifest's plugins.alert_channels"
            + (f" (configured: {known})" if known else "")
        )
    [channel] = build_channels(specs, source=manifest.source if manifest else None)
    event = ContractViolationEvent(
        contract_name="floe-test-alert",
        contract_version="0.0.0",
        violation_type=ViolationType.AVAILABILITY,
        severity=ViolationSeverity.INFO,
        message="TEST ALERT from `floe sla channels test`: nothing is broken; if you read "
        "this, the channel works",
        timestamp=datetime.now(UTC),
        check_duration_seconds=0.0,
        metadata={"test": "true"},
    )

    async def send() -> bool:
        try:
            return await channel.plugin.send_alerts([event])
        finally:
            await channel.plugin.aclose()

    if asyncio.run(send()):
        click.echo(f"Test alert delivered to {name}.")
        return
    click.echo(f"Test alert to {name} failed (see the log line above).", err=True)
    raise SystemExit(1)
