"""The kinds of plugin floe knows, each discovered through its own entry-point group."""

from __future__ import annotations

from enum import Enum


class PluginType(str, Enum):
    """A kind of plugin; ``entry_point_group`` is where installed distributions register one."""

    COMPUTE = "compute"
    CATALOG = "catalog"
    ORCHESTRATOR = "orchestrator"
    SEMANTIC_LAYER = "semantic_layer"
    INGESTION = "ingestion"
    STORAGE = "storage"
    TELEMETRY_BACKEND = "telemetry_backend"
    LINEAGE_BACKEND = "lineage_backend"
    QUALITY = "quality"
    DBT = "dbt"
    RBAC = "rbac"
    IDENTITY = "identity"
    SECRETS = "secrets"
    ALERT_CHANNEL = "alert_channel"

    @property
    def entry_point_group(self) -> str:
        """The ``importlib.metadata`` entry-point group plugins of this kind register under."""
        return ENTRY_POINT_GROUPS[self]

    @property
    def label(self) -> str:
        """A human name for messages, such as "Alert channel"."""
        return self.value.replace("_", " ").capitalize()


ENTRY_POINT_GROUPS: dict[PluginType, str] = {
    PluginType.COMPUTE: "floe.computes",
    PluginType.CATALOG: "floe.catalogs",
    PluginType.ORCHESTRATOR: "floe.orchestrators",
    PluginType.SEMANTIC_LAYER: "floe.semantic_layers",
    PluginType.INGESTION: "floe.ingestion",
    PluginType.STORAGE: "floe.storage",
    PluginType.TELEMETRY_BACKEND: "floe.telemetry_backends",
    PluginType.LINEAGE_BACKEND: "floe.lineage_backends",
    PluginType.QUALITY: "floe.quality",
    PluginType.DBT: "floe.dbt",
    PluginType.RBAC: "floe.rbac",
    PluginType.IDENTITY: "floe.identity",
    PluginType.SECRETS: "floe.secrets",
    PluginType.ALERT_CHANNEL: "floe.alert_channels",
}

# Where a distribution providing plugin NAME of each kind is conventionally published.
DISTRIBUTION_PREFIXES: dict[PluginType, str] = {
    PluginType.ALERT_CHANNEL: "floe-alert-",
    PluginType.CATALOG: "floe-catalog-",
    PluginType.COMPUTE: "floe-compute-",
    PluginType.QUALITY: "floe-quality-",
}
