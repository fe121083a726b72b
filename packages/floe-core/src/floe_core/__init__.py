"""floe: keep ODCS data contracts honest against live Apache Iceberg tables.

The public API is what ``__all__`` lists; names load lazily so that ``floe --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from floe_core._lazy import lazy_names
from floe_core._version import __version__

if TYPE_CHECKING:
    from floe_core.config import (
        AlertChannelRoutingRule,
        AlertConfig,
        CheckIntervalConfig,
        MonitoringConfig,
        SeverityThresholds,
    )
    from floe_core.contracts.loader import load_contract
    from floe_core.contracts.model import DataContract
    from floe_core.contracts.registered import RegisteredContract
    from floe_core.errors import FloeError
    from floe_core.events import (
        CheckReport,
        CheckResult,
        CheckStatus,
        ContractViolationEvent,
        ResolvedNotice,
        SLAStatus,
        ViolationSeverity,
        ViolationType,
    )
    from floe_core.manifest import PlatformManifest, load_manifest
    from floe_core.monitoring.monitor import ContractMonitor
    from floe_core.plugins.alert_channel import AlertChannelPlugin
    from floe_core.plugins.catalog import CatalogPlugin
    from floe_core.plugins.compute import ComputePlugin, ConnectionResult
    from floe_core.plugins.metadata import HealthState, HealthStatus, PluginMetadata
    from floe_core.plugins.quality import (
        QualityPlugin,
        QualityRequest,
        QualityResult,
        QualityRule,
        RuleResult,
    )
    from floe_core.plugins.registry import PluginRegistry, get_registry
    from floe_core.plugins.types import PluginType
    from floe_core.reporting.build import build_report
    from floe_core.reporting.model import SLAReport
    from floe_core.state.retention import RetentionResult, apply_retention
    from floe_core.state.store import StateStore

_EXPORTS: dict[str, str] = {
    "AlertChannelPlugin": "floe_core.plugins.alert_channel",
    "AlertChannelRoutingRule": "floe_core.config",
    "AlertConfig": "floe_core.config",
    "CatalogPlugin": "floe_core.plugins.catalog",
    "CheckIntervalConfig": "floe_core.config",
    "CheckReport": "floe_core.events",
    "CheckResult": "floe_core.events",
    "CheckStatus": "floe_core.events",
    "ComputePlugin": "floe_core.plugins.compute",
    "ConnectionResult": "floe_core.plugins.compute",
    "ContractMonitor": "floe_core.monitoring.monitor",
    "ContractViolationEvent": "floe_core.events",
    "DataContract": "floe_core.contracts.model",
    "FloeError": "floe_core.errors",
    "HealthState": "floe_core.plugins.metadata",
    "HealthStatus": "floe_core.plugins.metadata",
    "MonitoringConfig": "floe_core.config",
    "PlatformManifest": "floe_core.manifest",
    "PluginMetadata": "floe_core.plugins.metadata",
    "PluginRegistry": "floe_core.plugins.registry",
    "PluginType": "floe_core.plugins.types",
    "QualityPlugin": "floe_core.plugins.quality",
    "QualityRequest": "floe_core.plugins.quality",
    "QualityResult": "floe_core.plugins.quality",
    "QualityRule": "floe_core.plugins.quality",
    "RegisteredContract": "floe_core.contracts.registered",
    "ResolvedNotice": "floe_core.events",
    "RetentionResult": "floe_core.state.retention",
    "RuleResult": "floe_core.plugins.quality",
    "SLAReport": "floe_core.reporting.model",
    "SLAStatus": "floe_core.events",
    "SeverityThresholds": "floe_core.config",
    "StateStore": "floe_core.state.store",
    "ViolationSeverity": "floe_core.events",
    "ViolationType": "floe_core.events",
    "apply_retention": "floe_core.state.retention",
    "build_report": "floe_core.reporting.build",
    "get_registry": "floe_core.plugins.registry",
    "load_contract": "floe_core.contracts.loader",
    "load_manifest": "floe_core.manifest",
}

__all__ = [
    "AlertChannelPlugin",
    "AlertChannelRoutingRule",
    "AlertConfig",
    "CatalogPlugin",
    "CheckIntervalConfig",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "ComputePlugin",
    "ConnectionResult",
    "ContractMonitor",
    "ContractViolationEvent",
    "DataContract",
    "FloeError",
    "HealthState",
    "HealthStatus",
    "MonitoringConfig",
    "PlatformManifest",
    "PluginMetadata",
    "PluginRegistry",
    "PluginType",
    "QualityPlugin",
    "QualityRequest",
    "QualityResult",
    "QualityRule",
    "RegisteredContract",
    "ResolvedNotice",
    "RetentionResult",
    "RuleResult",
    "SLAReport",
    "SLAStatus",
    "SeverityThresholds",
    "StateStore",
    "ViolationSeverity",
    "ViolationType",
    "__version__",
    "apply_retention",
    "build_report",
    "get_registry",
    "load_contract",
    "load_manifest",
]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
