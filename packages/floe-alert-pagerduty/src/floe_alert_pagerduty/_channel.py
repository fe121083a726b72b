"""The ``pagerduty`` alert channel: violations as PagerDuty alerts through the Events API v2.

The routing key (integration key) travels in the body of every event, as the API wants; it is
a ``SecretStr`` and floe never logs it nor puts it in a delivery's reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from floe_alert_pagerduty._events import ResolveEvent, TriggerEvent, resolve, triggers
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.http_channel import HttpAlertChannel
from floe_core.plugins.metadata import FLOE_API_VERSION

log = logging.getLogger(__name__)
EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_HEADERS = {"Content-Type": "application/json"}


class PagerDutyChannelConfig(BaseModel):
    """Which PagerDuty integration the alerts go to, and how long one delivery may take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routing_key: SecretStr
    events_url: str = EVENTS_URL
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("routing_key")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError(
                "must be the integration key of an Events API v2 integration "
                "(PagerDuty service > Integrations)"
            )
        return value

    @field_validator("events_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as {EVENTS_URL}")
        return value


class PagerDutyAlertChannel(HttpAlertChannel):
    """Triggers one PagerDuty alert per (contract, violation type); resolves it when over."""

    name = "pagerduty"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "violations as PagerDuty alerts through the Events API v2"

    @classmethod
    def get_config_schema(cls) -> type[PagerDutyChannelConfig]:
        return PagerDutyChannelConfig

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        """One trigger per violation type of the group, sent side by side; True when PagerDuty
        accepted them all."""
        settings = self.usable_settings()
        if settings is None:
            return False
        key = settings.routing_key.get_secret_value()
        sent = await asyncio.gather(
            *(self._send(settings, event) for event in triggers(events, key))
        )
        return all(sent)

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        """Resolves the alert the triggers for this (contract, violation type) opened."""
        settings = self.usable_settings()
        if settings is None:
            return False
        return await self._send(settings, resolve(notice, settings.routing_key.get_secret_value()))

    async def _send(
        self, settings: PagerDutyChannelConfig, event: TriggerEvent | ResolveEvent
    ) -> bool:
        body = json.dumps(event, ensure_ascii=False).encode()
        return (await self.post(settings.events_url, content=body, headers=_HEADERS)).ok
