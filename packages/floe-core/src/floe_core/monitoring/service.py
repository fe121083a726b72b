"""``floe sla monitor`` as a service: the scheduler, its HTTP endpoints and its metrics.

    service = MonitorService(monitor, host="127.0.0.1", port=9464)
    await service.run(stop_event)      # until stop_event is set (SIGTERM, SIGINT)

The endpoints (``floe_core.monitoring.http``) read what the scheduler keeps as it runs: the
HTTP server's threads never wait on the database, except ``/``, whose report is built on the
monitor's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from floe_core.errors import InputError
from floe_core.monitoring.http import MonitorHttpServer

if TYPE_CHECKING:
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.monitoring.scheduler import Scheduler
    from floe_core.telemetry.metrics import PrometheusExport

log = logging.getLogger(__name__)

#: How long running checks may finish after a stop signal before they are cancelled.
SHUTDOWN_GRACE_SECONDS = 30.0
#: The period ``/`` reports on.
REPORT_DAYS = 7


class MonitorService:
    """A ``ContractMonitor`` scheduling its registered contracts, served over HTTP."""

    def __init__(
        self,
        monitor: ContractMonitor,
        *,
        host: str = "127.0.0.1",
        port: int = 9464,
        grace_seconds: float = SHUTDOWN_GRACE_SECONDS,
        exporter: PrometheusExport | None = None,
        **scheduler_options: Any,
    ) -> None:
        self.monitor = monitor
        self.host = host
        self.port = port
        self.grace_seconds = grace_seconds
        self.exporter = exporter
        self.scheduler_options = scheduler_options
        self.server: MonitorHttpServer | None = None
        self._scheduler: Scheduler | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Serve and schedule until ``stop`` is set; then stop cleanly (grace, flush)."""
        loop = asyncio.get_running_loop()
        self.server = MonitorHttpServer(self, self.host, self.port, loop)
        self.server.start()  # a port in use fails here, before any check runs
        try:
            metrics = self.exporter.metrics if self.exporter is not None else None
            self._scheduler = await self.monitor.start(
                metrics=metrics, grace_seconds=self.grace_seconds, **self.scheduler_options
            )
            await stop.wait()
            log.info("stopping: running checks get %.0fs to finish", self.grace_seconds)
        finally:
            await self.monitor.stop(self.grace_seconds)
            self.server.stop()
            if self.exporter is not None:
                self.exporter.shutdown()

    # MonitorEndpoints -------------------------------------------------------------------

    def liveness(self) -> tuple[bool, str]:
        if self._scheduler is None:
            return True, "starting"
        return self._scheduler.liveness()

    def readiness(self) -> tuple[bool, list[str]]:
        if self._scheduler is None:
            return False, ["the monitor is starting"]
        return self._scheduler.readiness()

    def status(self) -> dict[str, Any]:
        if self._scheduler is None:
            return {"state": "starting"}
        scheduler = self._scheduler
        status = dict(scheduler.cached_status)
        checks = dict(status.get("checks", {}))
        checks.update(
            running_here=scheduler.running_count,
            started=scheduler.stats.runs_started,
            finished=scheduler.stats.runs_finished,
            overruns=scheduler.stats.overruns,
        )
        ready, reasons = scheduler.readiness()
        return {**status, "checks": checks, "ready": ready, "degraded": reasons}

    def metrics(self) -> tuple[bytes, str]:
        if self.exporter is None:
            raise InputError("metrics are not exported by this monitor")
        return self.exporter.render(), self.exporter.content_type

    async def report_html(self) -> str:
        from floe_core.reporting.html import render_html

        today = self.monitor.now().date()
        report = await self.monitor.report(
            since=today - timedelta(days=REPORT_DAYS - 1), until=today, window="daily"
        )
        return render_html(report)
