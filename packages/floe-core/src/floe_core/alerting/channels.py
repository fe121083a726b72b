"""The alert channels a manifest configures, built and checked before anything is sent.

An unknown channel type names the distribution to install; a channel whose config fails its
own validation, or a routing rule naming a channel that is not configured, is a
``ManifestError`` at the field. Secrets never appear in these messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from floe_core.config import AlertConfig
from floe_core.errors import ManifestError, PluginError
from floe_core.manifest import AlertChannelSpec
from floe_core.plugins.alert_channel import AlertChannelPlugin
from floe_core.plugins.registry import PluginRegistry, get_registry
from floe_core.plugins.types import PluginType


@dataclass(frozen=True)
class ConfiguredChannel:
    """A channel of the manifest: its name, its plugin, and whether it hears of resolutions."""

    name: str
    plugin: AlertChannelPlugin
    send_resolved: bool = False


def build_channels(
    specs: Sequence[AlertChannelSpec],
    alerts: AlertConfig,
    *,
    registry: PluginRegistry | None = None,
    source: Path | None = None,
) -> list[ConfiguredChannel]:
    """Every configured channel, built; a ``ManifestError`` for the first problem found."""
    registry = registry or get_registry()
    channels = []
    for index, spec in enumerate(specs):
        where = f"plugins.alert_channels[{index}]"
        try:
            plugin_class = registry.get(PluginType.ALERT_CHANNEL, spec.type)
        except PluginError as exc:
            raise ManifestError(str(exc), source=source, path=f"{where}.type") from None
        plugin = plugin_class(spec.config)  # type: ignore[call-arg]
        assert isinstance(plugin, AlertChannelPlugin)
        problems = [plugin.scrub(problem) for problem in plugin.validate_config()]
        if problems:
            raise ManifestError(
                f"alert channel '{spec.name}' (type {spec.type}): {'; '.join(problems)}",
                source=source,
                path=f"{where}.config",
            )
        channels.append(ConfiguredChannel(spec.name, plugin, spec.send_resolved))
    check_rules(alerts, [channel.name for channel in channels], source=source)
    return channels


def check_rules(
    alerts: AlertConfig,
    channel_names: Sequence[str],
    *,
    source: Path | None = None,
    where: str = "data_contracts.monitoring.alerts",
) -> None:
    """Every routing rule names a configured channel."""
    for index, rule in enumerate(alerts.routing_rules):
        if rule.channel_name not in channel_names:
            known = ", ".join(channel_names) or "none"
            raise ManifestError(
                f"routing rule names alert channel '{rule.channel_name}', which is not "
                f"configured under plugins.alert_channels (configured: {known})",
                source=source,
                path=f"{where}.routing_rules[{index}].channel_name",
            )
