"""The built-in compute plugin: DuckDB, in process.

``config.database`` is ``:memory:`` (the default) or a DuckDB file; ``config.settings`` are
handed to ``duckdb.connect(config=...)`` (``threads``, ``memory_limit``, ...).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from floe_core import __version__
from floe_core._yaml import format_path
from floe_core.errors import PluginError
from floe_core.plugins.compute import ComputePlugin, ConnectionResult
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState

#: A query that makes DuckDB plan and execute a pipeline, yet costs well under a millisecond.
PROBE_QUERY = "SELECT count(*) FROM range(1000)"
_PROBE_ANSWER = (1000,)


class DuckDBComputeConfig(BaseModel):
    """Where DuckDB keeps its database, and its settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database: str = ":memory:"
    read_only: bool = False
    settings: dict[str, str | int | float | bool] = {}


class DuckDBComputePlugin(ComputePlugin):
    """DuckDB in this process; ``validate_connection`` opens a connection and queries it."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        try:
            self.settings = DuckDBComputeConfig.model_validate(self.config)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = format_path(["plugins", "compute", "config", *error["loc"]])
            raise PluginError(
                f"config of compute plugin 'duckdb' is invalid at {where}: {error['msg']}. "
                "It takes database (a file or :memory:), read_only and settings."
            ) from None

    @property
    def name(self) -> str:
        return "duckdb"

    version = __version__
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "DuckDB, in process"

    @classmethod
    def get_config_schema(cls) -> type[DuckDBComputeConfig]:
        return DuckDBComputeConfig

    def validate_connection(self) -> ConnectionResult:
        try:
            import duckdb
        except ImportError as exc:
            return ConnectionResult(
                status=HealthState.UNHEALTHY,
                latency_ms=0.0,
                message=f"duckdb cannot be imported ({exc}); install it: pip install duckdb",
            )
        database = self.settings.database
        started = time.monotonic()
        try:
            with duckdb.connect(
                database, read_only=self.settings.read_only, config=dict(self.settings.settings)
            ) as connection:
                answer = connection.execute(PROBE_QUERY).fetchone()
        except duckdb.Error as exc:
            return ConnectionResult(
                status=HealthState.UNHEALTHY,
                latency_ms=_ms_since(started),
                message=self.scrub(
                    f"DuckDB could not open database {database!r} and query it: "
                    f"{type(exc).__name__}: {exc}"
                ),
            )
        latency = _ms_since(started)
        if answer != _PROBE_ANSWER:
            return ConnectionResult(
                status=HealthState.UNHEALTHY,
                latency_ms=latency,
                message=f"DuckDB answered {PROBE_QUERY!r} with {answer!r}, not {_PROBE_ANSWER!r}",
            )
        return ConnectionResult(
            status=HealthState.HEALTHY,
            latency_ms=latency,
            message=f"DuckDB {duckdb.__version__} answered in {latency:.1f} ms",
        )


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
