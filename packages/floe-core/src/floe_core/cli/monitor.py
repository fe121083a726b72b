"""``floe sla monitor``: run every registered contract's checks on their schedule, serving
health, status, metrics and the SLA report over HTTP, until SIGTERM or SIGINT."""

from __future__ import annotations

import click

from floe_core.cli._state import MANIFEST_FOR_STATE
from floe_core.cli.errors import reports_floe_errors

#: Written here (not imported) so that --help stays fast; tests check they match the code.
DEFAULT_PORT = 9464
GRACE_SECONDS = 30.0


@click.command()
@MANIFEST_FOR_STATE
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the HTTP endpoints listen on; 0.0.0.0 for every interface (in a container).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port of the HTTP endpoints; 0 picks a free one (logged at start).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per record; json: one JSON object per record (for log shippers).",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(1, 1024),
    default=32,
    show_default=True,
    help="Checks run at once by this monitor.",
)
@click.option(
    "--grace-seconds",
    type=click.FloatRange(0, 3600),
    default=GRACE_SECONDS,
    show_default=True,
    help="On SIGTERM/SIGINT, how long running checks may finish before they are cancelled "
    "(and recorded as errors).",
)
@reports_floe_errors
def monitor(
    manifest_path: str | None,
    host: str,
    port: int,
    log_format: str,
    max_concurrency: int,
    grace_seconds: float,
) -> None:
    """Run the checks of every registered contract at their intervals, until stopped.

    \b
    The contracts are those `floe sla register` put in the state database; it is
    re-read every few seconds, so register and unregister take effect without a restart.
    Each check type a contract has something for runs every
    data_contracts.monitoring.check_intervals (with the contract's overrides), its
    violations going to the manifest's alert channels. mode: on_demand schedules nothing;
    continuous also runs a table's freshness, drift and quality checks when a new
    snapshot lands. Retention runs once a day.

    \b
    HTTP (default http://127.0.0.1:9464):
      /healthz   200 while the scheduler is ticking, else 503
      /readyz    200 when the state database and the catalogs answer, else 503 and why
      /status    JSON: replica, mode, contracts, checks due/running/overrun, last successes
      /metrics   Prometheus text format (also pushed over OTLP with
                 OTEL_METRICS_EXPORTER=otlp)
      /          the SLA report of the last 7 days (HTML)

    \b
    Replicas: with a PostgreSQL state database run as many as you like; each due check
    runs once across them, and a dead replica's work is taken over when its leases
    expire. With SQLite one monitor runs per database; a second one refuses to start.

    \b
    Traces and lineage: with OTEL_EXPORTER_OTLP_ENDPOINT set, every run's spans go to
    that OTLP/HTTP collector; with plugins.lineage_backend in the manifest (or
    OPENLINEAGE_URL), each check with a violation is an OpenLineage START and FAIL.
    Neither ever slows a check: a backend that does not answer is one warning, and
    lost lineage events are counted in floe_lineage_emit_failures_total.

    \b
    Examples:
      floe sla monitor
      floe sla monitor --manifest manifest.yaml --host 0.0.0.0 --log-format json
      FLOE_STATE_URL=postgresql://floe@db/floe floe sla monitor --port 0
    """
    import asyncio
    import gc

    from floe_core.cli._logging import at_least_info, use_json_lines

    gc.enable()  # a long-running process: the collector earns its keep here
    at_least_info()
    if log_format == "json":
        use_json_lines()
    asyncio.run(_serve(manifest_path, host, port, max_concurrency, grace_seconds))


async def _serve(
    manifest_path: str | None, host: str, port: int, max_concurrency: int, grace: float
) -> None:
    import asyncio
    import signal

    from floe_core.cli._state import manifest_at
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.monitoring.service import MonitorService
    from floe_core.state.engine import open_state
    from floe_core.state.store import StateStore
    from floe_core.state.url import resolve_state_url
    from floe_core.telemetry.metrics import prometheus_exporter
    from floe_core.telemetry.otlp_metrics import wanted as otlp_wanted

    manifest = manifest_at(manifest_path)
    state = resolve_state_url(manifest)
    engine = await open_state(state, auto_upgrade=state.embedded)
    try:
        monitor = ContractMonitor.from_manifest(manifest, state=StateStore(engine))
        service = MonitorService(
            monitor,
            host=host,
            port=port,
            grace_seconds=grace,
            exporter=prometheus_exporter(otlp=otlp_wanted()),
            max_concurrency=max_concurrency,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await service.run(stop)
    finally:
        await engine.dispose()
