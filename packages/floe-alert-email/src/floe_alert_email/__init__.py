"""floe's ``email`` alert channel: each contract run's violations as one email, over SMTP."""

from __future__ import annotations

from floe_alert_email._channel import EmailAlertChannel
from floe_alert_email._config import EmailChannelConfig, Security

__all__ = ["EmailAlertChannel", "EmailChannelConfig", "Security"]
