"""What every floe plugin is: a named, versioned object with a lifecycle and a health check."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

#: The plugin API this floe-core speaks. A plugin built for major version N works with any
#: floe-core of major version N whose minor version is at least the plugin's.
FLOE_API_VERSION = "1.0"


class HealthState(str, Enum):
    """How well a plugin can do its job right now."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class HealthStatus:
    """The answer of ``PluginMetadata.health_check``."""

    state: HealthState
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class PluginMetadata(ABC):
    """Base class of every plugin: identity, lifecycle hooks, health, and config schema."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The plugin's name, as registered in its entry-point group."""

    @property
    @abstractmethod
    def version(self) -> str:
        """The plugin's own version."""

    @property
    @abstractmethod
    def floe_api_version(self) -> str:
        """The floe plugin API version the plugin was built for, such as "1.0"."""

    @property
    def description(self) -> str:
        """One line saying what the plugin does."""
        return ""

    @property
    def dependencies(self) -> list[str]:
        """Names of other plugins this one needs."""
        return []

    def startup(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Acquire resources before first use."""

    def shutdown(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Release resources; the plugin is not used afterwards."""

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """Report whether the plugin can work, within ``timeout`` seconds."""
        return HealthStatus(HealthState.HEALTHY)

    @classmethod
    def get_config_schema(cls) -> type[BaseModel] | None:
        """The pydantic model that validates this plugin's config, if it takes one."""
        return None
