"""The ``alertmanager`` alert channel: floe's violations as Prometheus Alertmanager alerts.

Alertmanager deduplicates, groups, silences and routes by itself, so floe sends it every
firing violation on every run (``deduplicates_itself``), each with an ``endsAt`` a few minutes
ahead: an alert floe stops sending ends on its own, one it resolves ends at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from floe_alert_alertmanager._alerts import (
    ALERTNAME,
    PostableAlert,
    alerts_json,
    firing_alerts,
    resolved_alerts,
)
from floe_alert_alertmanager._config import AlertmanagerChannelConfig
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.http_channel import HttpAlertChannel
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState, HealthStatus

__all__ = [
    "ALERTNAME",
    "AlertmanagerAlertChannel",
    "AlertmanagerChannelConfig",
    "PostableAlert",
    "__version__",
]

__version__ = "0.1.0"

log = logging.getLogger(__name__)
_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": f"floe-alert-alertmanager/{__version__}",
}


class AlertmanagerAlertChannel(HttpAlertChannel):
    """Posts violations to Alertmanager's ``/api/v2/alerts``, one request per group."""

    name = "alertmanager"
    version = __version__
    floe_api_version = FLOE_API_VERSION
    deduplicates_itself = True

    @property
    def description(self) -> str:
        return "violations as Prometheus Alertmanager alerts"

    @classmethod
    def get_config_schema(cls) -> type[AlertmanagerChannelConfig]:
        return AlertmanagerChannelConfig

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        """Every event in ONE request: the firing alerts and their other severities ended."""
        if not events:
            return True
        settings = self.usable_settings()
        if settings is None:
            return False
        return await self._post(settings, firing_alerts(events, settings, datetime.now(UTC)))

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        """Ends the notice's alerts, for each of its elements at every severity."""
        settings = self.usable_settings()
        if settings is None:
            return False
        return await self._post(settings, resolved_alerts(notice, settings, datetime.now(UTC)))

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """``GET /-/healthy``: HEALTHY on 200; connecting and reading each bounded by
        ``timeout``."""
        import httpx

        settings = self.usable_settings()
        if settings is None:
            return HealthStatus(HealthState.UNHEALTHY, "the channel's config is invalid")
        started = time.monotonic()
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.get(_endpoint(settings, "/-/healthy"))
        except httpx.TimeoutException:
            return HealthStatus(
                HealthState.UNHEALTHY, f"Alertmanager gave no answer within {timeout:g} s"
            )
        except httpx.HTTPError as exc:
            reason = self.scrub(f"{type(exc).__name__}: {exc}")
            return HealthStatus(HealthState.UNHEALTHY, f"Alertmanager unreachable: {reason}")
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        if response.status_code == 200:
            return HealthStatus(HealthState.HEALTHY, "", {"latency_ms": latency_ms})
        return HealthStatus(
            HealthState.UNHEALTHY,
            self.scrub(
                f"Alertmanager answered HTTP {response.status_code} "
                f"{response.reason_phrase}".strip()
            ),
            {"latency_ms": latency_ms, "http_status": response.status_code},
        )

    async def _post(
        self, settings: AlertmanagerChannelConfig, alerts: Sequence[PostableAlert]
    ) -> bool:
        delivery = await self.post(
            _endpoint(settings, "/api/v2/alerts"), content=alerts_json(alerts), headers=_HEADERS
        )
        return delivery.ok


def _endpoint(settings: AlertmanagerChannelConfig, path: str) -> str:
    """``path`` under the base URL (which may have a path of its own, behind a proxy)."""
    return settings.url.get_secret_value().rstrip("/") + path
