"""floe's ``webhook`` alert channel: contract violations as CloudEvents 1.0, POSTed to a URL.

One event goes in structured mode (``application/cloudevents+json``); the events of one
contract run go as one batch (``application/cloudevents-batch+json``). With a ``secret`` every
request is signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``).
"""

from __future__ import annotations

from floe_alert_webhook._channel import WebhookAlertChannel, __version__
from floe_alert_webhook._config import WebhookChannelConfig

__all__ = ["WebhookAlertChannel", "WebhookChannelConfig", "__version__"]
