"""ComputePlugin and the built-in DuckDB compute plugin: validate_connection does real work."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from floe_core.errors import IncompatiblePluginError, PluginError
from floe_core.plugins.compute import ComputePlugin, ConnectionResult
from floe_core.plugins.duckdb_compute import DuckDBComputeConfig, DuckDBComputePlugin
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState
from floe_core.plugins.pyiceberg_catalogs import SqlCatalogPlugin
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType


def test_duckdb_answers_a_query_in_process() -> None:
    plugin = DuckDBComputePlugin()

    result = plugin.validate_connection()

    assert result.status is HealthState.HEALTHY
    assert result.ok
    assert result.latency_ms > 0
    assert f"DuckDB {duckdb.__version__} answered" in result.message
    assert (plugin.name, plugin.floe_api_version) == ("duckdb", FLOE_API_VERSION)
    assert plugin.get_config_schema() is DuckDBComputeConfig


def test_duckdb_file_database(tmp_path: Path) -> None:
    path = tmp_path / "engine.duckdb"
    duckdb.connect(str(path)).close()

    result = DuckDBComputePlugin({"database": str(path), "read_only": True}).validate_connection()

    assert result.ok, result.message


def test_a_missing_database_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "engine.duckdb"
    plugin = DuckDBComputePlugin({"database": str(missing), "read_only": True})

    result = plugin.validate_connection()

    assert result.status is HealthState.UNHEALTHY
    assert not result.ok
    assert result.latency_ms >= 0
    assert str(missing) in result.message
    assert "IOException" in result.message


def test_an_unknown_setting_is_reported_not_raised() -> None:
    result = DuckDBComputePlugin({"settings": {"no_such_setting": 1}}).validate_connection()

    assert not result.ok
    assert "no_such_setting" in result.message


def test_secrets_are_masked_in_the_message(tmp_path: Path) -> None:
    database = f"{tmp_path}/missing.duckdb?token=s3cret-value"
    result = DuckDBComputePlugin({"database": database, "read_only": True}).validate_connection()

    assert not result.ok
    assert "token=***" in result.message
    assert "s3cret-value" not in result.message


def test_invalid_config_names_the_field() -> None:
    with pytest.raises(PluginError, match=r"plugins\.compute\.config\.databse"):
        DuckDBComputePlugin({"databse": ":memory:"})


def test_health_check_follows_validate_connection(tmp_path: Path) -> None:
    healthy = DuckDBComputePlugin().health_check()
    assert healthy.state is HealthState.HEALTHY
    assert healthy.details["latency_ms"] > 0

    missing = str(tmp_path / "missing.duckdb")
    unhealthy = DuckDBComputePlugin({"database": missing, "read_only": True}).health_check()
    assert unhealthy.state is HealthState.UNHEALTHY
    assert missing in unhealthy.message


def test_connection_result_is_a_frozen_model() -> None:
    result = ConnectionResult(status=HealthState.DEGRADED, latency_ms=1.5, message="slow")

    assert result.ok  # a degraded engine still answers
    assert ConnectionResult.model_validate(result.model_dump()) == result
    assert result.model_dump(mode="json") == {
        "status": "degraded",
        "latency_ms": 1.5,
        "message": "slow",
    }
    with pytest.raises(ValidationError):
        ConnectionResult(status=HealthState.HEALTHY, latency_ms=-1.0)
    with pytest.raises(ValidationError):
        ConnectionResult.model_validate({"status": "healthy", "latency_ms": 1, "extra": 1})
    with pytest.raises(ValidationError):
        result.latency_ms = 2.0  # type: ignore[misc]


def test_compute_plugin_needs_validate_connection() -> None:
    class Incomplete(ComputePlugin):
        name = "incomplete"
        version = "1.0"
        floe_api_version = FLOE_API_VERSION

    with pytest.raises(TypeError, match="validate_connection"):
        Incomplete()  # type: ignore[abstract]


def test_duckdb_is_discovered_in_floe_computes() -> None:
    registry = PluginRegistry()  # the real entry points of the installed floe-core

    assert "duckdb" in registry.names(PluginType.COMPUTE)
    plugin = registry.create(PluginType.COMPUTE, "duckdb", {"settings": {"threads": 1}})
    assert isinstance(plugin, DuckDBComputePlugin)
    assert plugin.validate_connection().ok


def test_registry_refuses_a_compute_plugin_that_is_not_one() -> None:
    registry = PluginRegistry(entry_points_fn=lambda group: [])

    with pytest.raises(IncompatiblePluginError, match="ComputePlugin"):
        registry.register(PluginType.COMPUTE, "sql", SqlCatalogPlugin)
