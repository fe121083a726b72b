"""ComputePlugin: the query engine floe runs work on, and how to tell that it answers."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from floe_core._redact import redact, secret_values
from floe_core.plugins.metadata import HealthState, HealthStatus, PluginMetadata


class ConnectionResult(BaseModel):
    """What ``ComputePlugin.validate_connection`` found; ``message`` never holds secrets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: HealthState
    latency_ms: float = Field(ge=0)  # connect and query, measured with time.monotonic
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether the engine answered (a DEGRADED engine still does)."""
        return self.status is not HealthState.UNHEALTHY


class ComputePlugin(PluginMetadata):
    """A compute engine. Subclasses implement ``validate_connection``.

    Entry point group: ``floe.computes``; the manifest chooses one with ``plugins.compute``.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})

    @abstractmethod
    def validate_connection(self) -> ConnectionResult:
        """Connect and run a trivial query; report a failure in the result, do not raise."""

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """The engine's health, from ``validate_connection``."""
        result = self.validate_connection()
        return HealthStatus(result.status, result.message, {"latency_ms": result.latency_ms})

    def scrub(self, text: str) -> str:
        """``text`` safe to show: URL passwords and every secret in ``config`` masked."""
        return redact(text, secret_values(self.config))
