"""The alert channels a manifest configures, built and checked before anything is sent.

An unknown channel type names the distribution to install; a channel whose config fails its
own validation is a ``ManifestError`` at the field (a routing rule naming a channel that is
not configured is one already when the manifest loads). Secrets never appear in these
messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    return channels
