"""floe's ``slack`` alert channel: contract violations as Slack Block Kit messages.

Registered in the ``floe.alert_channels`` entry-point group as ``slack``.
"""

from floe_alert_slack._channel import SlackAlertChannel, SlackChannelConfig

__all__ = ["SlackAlertChannel", "SlackChannelConfig"]
