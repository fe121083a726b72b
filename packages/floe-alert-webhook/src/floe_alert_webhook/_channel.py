"""The ``webhook`` alert channel: CloudEvents POSTed to a URL, signed per Standard Webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from floe_alert_webhook import _envelope
from floe_alert_webhook._config import SECRET_PREFIX, WebhookChannelConfig, signing_key
from floe_alert_webhook._signing import signature_headers
from floe_core.errors import PluginError
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.http_channel import Delivery, HttpAlertChannel
from floe_core.plugins.metadata import FLOE_API_VERSION

if TYPE_CHECKING:
    pass

__version__ = "0.1.0"


def _plain(value: Any) -> str | None:
    """A config value as the text it stands for (a ``SecretStr`` unwrapped)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value if isinstance(value, str) and value else None


class WebhookAlertChannel(HttpAlertChannel):
    """POSTs each contract run's violations as CloudEvents: one structured event, or one batch.

    With a ``secret``, every request carries Standard Webhooks signature headers.
    """

    name = "webhook"
    version = __version__
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "violations as CloudEvents POSTed to a webhook, signed per Standard Webhooks"

    @classmethod
    def get_config_schema(cls) -> type[WebhookChannelConfig]:
        return WebhookChannelConfig

    def secrets(self) -> set[str]:
        """The base's secrets, plus the URL as httpx writes it (percent-encoded) and the
        signing secret's key without its prefix."""
        import httpx

        found = super().secrets()
        url = _plain(self.config.get("url"))
        if url is not None:
            try:
                parsed = httpx.URL(url)
            except httpx.InvalidURL:
                pass  # not a URL httpx would send to, so not one it would log either
            else:
                found |= {str(parsed), parsed.raw_path.decode("ascii", "replace")}
        secret = _plain(self.config.get("secret"))
        if secret is not None:
            found |= {secret, secret.removeprefix(SECRET_PREFIX)}
        return found

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return (await self.deliver([event])).ok

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        return (await self.deliver(events)).ok

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        return (await self.deliver_resolved(notice)).ok

    async def deliver(self, events: Sequence[ContractViolationEvent]) -> Delivery:
        """POST ``events`` as one request: a structured event for one, a batch for several."""
        if not events:
            return Delivery(True, None, "", 0)
        cloudevents = [_envelope.violation_cloudevent(event) for event in events]
        if len(cloudevents) == 1:
            [single] = cloudevents
            body = _envelope.structured(single)
            return await self._post(body, _envelope.STRUCTURED_CONTENT_TYPE, single.get_id())
        body = _envelope.batch(cloudevents)
        return await self._post(body, _envelope.BATCH_CONTENT_TYPE, str(uuid.uuid4()))

    async def deliver_resolved(self, notice: ResolvedNotice) -> Delivery:
        """POST ``notice`` as one structured ``floe.contract.resolved`` event."""
        event = _envelope.resolved_cloudevent(notice)
        body = _envelope.structured(event)
        return await self._post(body, _envelope.STRUCTURED_CONTENT_TYPE, event.get_id())

    async def _post(self, body: bytes, content_type: str, message_id: str) -> Delivery:
        try:
            settings: WebhookChannelConfig = self.settings()
        except PluginError as exc:
            return self._failed(None, str(exc), 0)
        headers = {"User-Agent": f"floe-alert-webhook/{__version__}", **settings.headers}
        headers["Content-Type"] = content_type
        if settings.secret is not None:
            key = signing_key(settings.secret.get_secret_value())
            headers |= signature_headers(key, message_id, body)
        return await self.post(settings.url.get_secret_value(), content=body, headers=headers)
