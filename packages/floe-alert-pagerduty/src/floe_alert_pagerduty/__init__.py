"""floe's ``pagerduty`` alert channel: contract violations as PagerDuty alerts (Events API v2).

Registered in the ``floe.alert_channels`` entry-point group as ``pagerduty``.
"""

from floe_alert_pagerduty._channel import PagerDutyAlertChannel, PagerDutyChannelConfig

__all__ = ["PagerDutyAlertChannel", "PagerDutyChannelConfig"]
