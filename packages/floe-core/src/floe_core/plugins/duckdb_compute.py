"""The built-in compute plugin: DuckDB, where floe runs it (its worker process, by default).

``config.database`` is ``:memory:`` (the default) or a DuckDB file; ``config.settings`` are
handed to ``duckdb.connect(config=...)`` (``threads``, ``memory_limit``, ...). The probe opens
the database in floe's DuckDB worker process, the one quality scans use
(``floe_core.duckdb_worker``), or in this process when ``FLOE_DUCKDB_WORKER=0``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from floe_core._version import __version__
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
    """DuckDB; ``validate_connection`` opens the database where floe runs DuckDB, queries it."""

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
        return "DuckDB, in floe's DuckDB worker process"

    @classmethod
    def get_config_schema(cls) -> type[DuckDBComputeConfig]:
        return DuckDBComputeConfig

    def validate_connection(self) -> ConnectionResult:
        from floe_core.duckdb_worker.client import run_probe
        from floe_core.duckdb_worker.session import EngineError

        database = self.settings.database
        started = time.monotonic()
        try:
            answer, version = run_probe(
                database, self.settings.read_only, dict(self.settings.settings), PROBE_QUERY
            )
        except ImportError as exc:
            return _cannot_import(exc, started)
        except EngineError as exc:
            if exc.kind in ("ImportError", "ModuleNotFoundError"):
                return _cannot_import(exc, started)
            return ConnectionResult(
                status=HealthState.UNHEALTHY,
                latency_ms=_ms_since(started),
                message=self.scrub(
                    f"DuckDB could not open database {database!r} and query it: {exc.kind}: {exc}"
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
            message=f"DuckDB {version} answered in {latency:.1f} ms",
        )


def _cannot_import(exc: Exception, started: float) -> ConnectionResult:
    return ConnectionResult(
        status=HealthState.UNHEALTHY,
        latency_ms=_ms_since(started),
        message=f"duckdb cannot be imported ({exc}); install it: pip install duckdb",
    )


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
