"""The ``slack`` alert channel: one Block Kit message per contract run, via an incoming webhook.

The webhook URL is the credential (whoever has it can post to the channel), so it is a
``SecretStr`` and masked wherever floe writes it: delivery reasons, floe's logs, and httpx's
own request log, which records every URL it posts to at INFO level.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from floe_alert_slack._message import Message, alert_message, resolved_message
from floe_core.errors import PluginError
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.http_channel import HttpAlertChannel
from floe_core.plugins.metadata import FLOE_API_VERSION

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class SlackChannelConfig(BaseModel):
    """Where the messages go and how long one delivery may take."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook_url: SecretStr
    timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        # The message names no part of the URL: all of it is the secret.
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                "must be the https:// URL of a Slack incoming webhook "
                "(Slack app settings > Incoming Webhooks)"
            )
        return value


class SlackAlertChannel(HttpAlertChannel):
    """Posts each contract run's violations to Slack as one Block Kit message."""

    name = "slack"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "violations as Slack Block Kit messages via an incoming webhook"

    @classmethod
    def get_config_schema(cls) -> type[SlackChannelConfig]:
        return SlackChannelConfig

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        """One message for the whole group, however large (the rest summarised)."""
        if not events:
            return True
        return await self._send(alert_message(events))

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        return await self._send(resolved_message(notice))

    async def _send(self, message: Message) -> bool:
        try:
            settings: SlackChannelConfig = self.settings()
        except PluginError as exc:
            log.warning("alert channel %s: not sent: %s", self.name, self.scrub(str(exc)))
            return False
        body = json.dumps(message, ensure_ascii=False).encode()
        url = settings.webhook_url.get_secret_value()
        return (await self.post(url, content=body, headers=_HEADERS)).ok
