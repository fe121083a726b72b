"""The built-in ``log`` alert channel: every alert as one structured log record.

It needs no account anywhere, so it is what a newcomer (and the demo) alerts through; in
production it puts alerts into whatever already collects floe's logs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from floe_core._version import __version__
from floe_core.events import ContractViolationEvent, ResolvedNotice, ViolationSeverity
from floe_core.plugins.alert_channel import AlertChannelPlugin
from floe_core.plugins.metadata import FLOE_API_VERSION

_LEVELS = {
    ViolationSeverity.INFO: logging.INFO,
    ViolationSeverity.WARNING: logging.WARNING,
    ViolationSeverity.ERROR: logging.ERROR,
    ViolationSeverity.CRITICAL: logging.CRITICAL,
}


class LogChannelConfig(BaseModel):
    """Which logger the alerts go to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    logger: str = Field("floe.alerts", min_length=1)


class LogAlertChannel(AlertChannelPlugin):
    """Logs each alert at the level of its severity (CRITICAL as CRITICAL), with its fields."""

    name = "log"
    version = __version__
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "every alert as a structured log record"

    @classmethod
    def get_config_schema(cls) -> type[LogChannelConfig]:
        return LogChannelConfig

    def _logger(self) -> logging.Logger:
        settings: LogChannelConfig = self.settings()
        return logging.getLogger(settings.logger)

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        logger = self._logger()
        for event in events:
            logger.log(
                _LEVELS[event.severity],
                "%s %s of contract %s %s: %s",
                event.severity.value.upper(),
                event.violation_type.value,
                event.contract_name,
                event.contract_version,
                event.message,
                extra={"floe_alert": event.model_dump(mode="json")},
            )
        return True

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        self._logger().info(
            "RESOLVED %s of contract %s %s: %s",
            notice.violation_type.value,
            notice.contract_name,
            notice.contract_version,
            notice.message,
            extra={"floe_alert": notice.model_dump(mode="json")},
        )
        return True
