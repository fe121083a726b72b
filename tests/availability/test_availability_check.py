"""The availability probe against real components: a SQLite-backed catalog, a missing table,
a REST catalog on a closed port, and DuckDB."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from floe_core.events import CheckReport, CheckResult, CheckStatus, ViolationType
from floe_core.manifest import PluginSpec, PluginsSection
from floe_core.monitoring.checks.availability import AvailabilityCheck
from floe_core.monitoring.monitor import default_checks
from floe_core.plugins.compute import ComputePlugin, ConnectionResult
from floe_core.plugins.duckdb_compute import DuckDBComputePlugin
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState
from floe_core.plugins.pyiceberg_catalogs import RestCatalogPlugin, SqlCatalogPlugin
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.iceberg import catalog_config

SECRET = "s3cret-token"
ByType = Callable[[CheckReport], dict[str, CheckResult]]


@pytest.fixture
def registry() -> PluginRegistry:
    """A registry that sees no installed plugins; tests register what they use."""
    made = PluginRegistry(entry_points_fn=lambda group: [])
    made.register(PluginType.COMPUTE, "duckdb", DuckDBComputePlugin)
    return made


class CountingCompute(ComputePlugin):
    """A compute engine that answers as told, and counts its instances and probes."""

    instances = 0

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        type(self).instances += 1
        self.probes = 0

    name = "counting"
    version = "1.0"
    floe_api_version = FLOE_API_VERSION

    def validate_connection(self) -> ConnectionResult:
        self.probes += 1
        status = HealthState(self.config.get("status", "healthy"))
        return ConnectionResult(status=status, latency_ms=0.5, message=f"said {status.value}")


def test_the_monitor_runs_availability_by_default() -> None:
    checks = default_checks()
    assert isinstance(checks[ViolationType.AVAILABILITY], AvailabilityCheck)
    assert AvailabilityCheck.needs_catalog is False


def test_healthy_contract_passes_with_every_step_timed(lake: Any, by_type: ByType) -> None:
    monitor = lake.monitor(lake.contract([lake.availability(99.9, "percent")], properties=True))

    report = lake.run(monitor)

    result = by_type(report)["availability"]
    assert result.status is CheckStatus.PASS
    assert result.violation is None
    details = result.details
    assert details["uptime_pct"] == 100.0
    assert details["target_pct"] == 99.9
    assert details["budget_consumed_pct"] == 0.0
    assert details["consecutive_failures"] == 0
    assert details["probes_in_window"] == 1
    assert details["sla"] == "slaProperties[0]"
    probe = details["probe"]
    assert probe["ok"] is True
    assert probe["timeout_seconds"] == 29.0  # just inside check_timeout_seconds (30)
    assert [(s["step"], s["target"], s["ok"]) for s in probe["steps"]] == [
        ("catalog", "floe", True),
        ("table", "sales.orders", True),
        ("compute", "duckdb", True),
    ]
    assert all(s["latency_ms"] >= 0 for s in probe["steps"])
    assert "DuckDB" in probe["steps"][2]["message"]
    assert report.violations == []


def test_every_table_is_probed_once(lake: Any) -> None:
    lake.up("sales.customers")
    contract = lake.contract(tables=["sales.orders", "sales.customers", "sales.orders"])
    lake.down("sales.customers")

    result = lake.probe(lake.monitor(contract))

    steps = [(s["target"], s["ok"]) for s in result.details["probe"]["steps"]]
    assert steps[1:3] == [("sales.orders", True), ("sales.customers", False)]
    assert result.details["probe"]["reason"] == "table_not_found"
    assert result.violation is not None
    assert result.violation.element == "sales.customers"


def test_missing_table_fails_and_the_other_checks_error(lake: Any, by_type: ByType) -> None:
    lake.down()
    sla = [lake.availability("99.9%"), {"property": "latency", "value": 6, "unit": "h"}]
    monitor = lake.monitor(lake.contract(sla, properties=True))

    report = lake.run(monitor)

    results = by_type(report)
    assert results["availability"].status is CheckStatus.FAIL
    for other in ("freshness", "schema_drift"):
        assert results[other].status is CheckStatus.ERROR
        assert results[other].details["reason"] == "table_not_found"
    [event] = report.violations
    assert event.violation_type is ViolationType.AVAILABILITY
    assert event.severity.value == "error"
    assert event.element == "sales.orders"
    assert event.expected_value == "uptime >= 99.9%"
    assert event.actual_value == "uptime 0.0%"
    assert event.metadata["reason"] == "table_not_found"
    assert event.message.startswith(
        "orders is unavailable (uptime 0.0% over the last 24h (1 of 1 probes failed), below the "
        "99.9% availability SLA): Table 'sales.orders' does not exist in catalog 'floe'."
    )
    details = results["availability"].details
    assert (details["uptime_pct"], details["budget_consumed_pct"]) == (0.0, 100_000.0)
    assert details["consecutive_failures"] == 1


def test_unreachable_catalog_is_an_availability_failure(
    lake: Any, closed_port: int, by_type: ByType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="floe_core")
    uri = f"http://127.0.0.1:{closed_port}/api?token={SECRET}"
    catalog = RestCatalogPlugin({"name": "prod", "uri": uri, "token": SECRET})
    sla = [lake.availability(99, "%"), {"property": "latency", "value": 6, "unit": "h"}]
    monitor = lake.monitor(lake.contract(sla, properties=True), catalog=catalog)

    report = lake.run(monitor)

    results = by_type(report)
    for other in ("freshness", "schema_drift"):
        assert results[other].status is CheckStatus.ERROR
        assert results[other].details["reason"] == "catalog_unreachable"
    availability = results["availability"]
    assert availability.status is CheckStatus.FAIL
    steps = availability.details["probe"]["steps"]
    # No table is loaded from a catalog that cannot connect; the engine is still probed.
    assert [(s["step"], s["ok"]) for s in steps] == [("catalog", False), ("compute", True)]
    [event] = report.violations
    assert "Could not connect to rest catalog 'prod'" in event.message
    assert event.metadata["reason"] == "catalog_unreachable"
    assert event.element is None
    everything = report.model_dump_json() + caplog.text
    everything += repr([r.__dict__ for r in caplog.records])  # structured fields too
    assert SECRET not in everything
    assert "is unavailable" in caplog.text


def test_an_unresolvable_table_is_an_error_of_the_contract(lake: Any, by_type: ByType) -> None:
    check = AvailabilityCheck()
    contract = lake.contract(tables=["sales.orders", "orders"])  # "orders": no namespace
    monitor = lake.monitor(contract, checks={ViolationType.AVAILABILITY: check})

    result = lake.probe(monitor)

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "table_unresolved"
    assert "schema object 'orders' does not say which Iceberg table" in result.details["message"]
    assert check.tracked == []  # not a probe: nothing counted for or against the contract


class CrashingCatalog(SqlCatalogPlugin):
    """A buggy third-party catalog: loading a table raises something that is not a FloeError."""

    def load_table(self, identifier: str) -> Any:
        raise RuntimeError(f"bug in the plugin for http://user:{SECRET}@127.0.0.1:1/api")


def test_a_crashing_plugin_is_an_internal_error_not_downtime(lake: Any) -> None:
    check = AvailabilityCheck()
    catalog = CrashingCatalog(catalog_config(lake.warehouse))
    monitor = lake.monitor(
        lake.contract(), catalog=catalog, checks={ViolationType.AVAILABILITY: check}
    )

    result = lake.probe(monitor)

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "internal_error"
    assert "RuntimeError: bug in the plugin" in result.details["message"]
    assert SECRET not in result.details["message"]
    assert check.tracked == []


def test_without_an_sla_the_probe_alone_decides(lake: Any) -> None:
    monitor = lake.monitor(lake.contract())

    healthy = lake.probe(monitor)
    assert healthy.status is CheckStatus.PASS
    assert healthy.details["sla"] is None
    assert healthy.details["target_pct"] is None
    assert healthy.details["budget_consumed_pct"] is None
    assert "no availability SLA" in healthy.details["note"]

    lake.down()
    failed = lake.probe(monitor)
    assert failed.status is CheckStatus.FAIL
    assert failed.violation is not None
    assert failed.violation.severity.value == "error"
    assert failed.violation.message.startswith(
        "orders is unavailable (no availability SLA, so judged on this probe alone): "
        "Table 'sales.orders' does not exist"
    )
    assert failed.violation.expected_value == "probe succeeds"
    assert failed.details["uptime_pct"] == 50.0
    assert failed.details["probes_in_window"] == 2


def test_compute_failure_fails_the_probe(
    lake: Any, registry: PluginRegistry, tmp_path: Path, by_type: ByType
) -> None:
    missing = str(tmp_path / "engine.duckdb")
    spec = PluginSpec(type="duckdb", config={"database": missing, "read_only": True})
    plugins = PluginsSection(compute=spec)
    monitor = lake.monitor(
        lake.contract([lake.availability(99.9, "%")], properties=True),
        registry=registry,
        plugins=plugins,
    )

    report = lake.run(monitor)

    results = by_type(report)
    assert results["schema_drift"].status is CheckStatus.PASS
    assert results["availability"].status is CheckStatus.FAIL
    [event] = report.violations
    assert event.metadata["reason"] == "compute_unavailable"
    assert event.message.endswith("database does not exist")
    assert "compute engine 'duckdb' did not answer" in event.message


def test_the_compute_plugin_is_made_once_from_the_manifest_choice(
    lake: Any, registry: PluginRegistry
) -> None:
    registry.register(PluginType.COMPUTE, "counting", CountingCompute)
    CountingCompute.instances = 0
    check = AvailabilityCheck()
    plugins = PluginsSection(compute=PluginSpec(type="counting", config={"status": "degraded"}))
    monitor = lake.monitor(
        lake.contract(),
        registry=registry,
        plugins=plugins,
        checks={ViolationType.AVAILABILITY: check},
    )

    for _ in range(3):
        result = lake.probe(monitor)
        assert result.status is CheckStatus.PASS  # a degraded engine still answers
    assert CountingCompute.instances == 1
    assert result.details["probe"]["steps"][-1]["message"] == "said degraded"

    unhealthy = PluginsSection(compute=PluginSpec(type="counting", config={"status": "unhealthy"}))
    monitor = lake.monitor(
        lake.contract(),
        registry=registry,
        plugins=unhealthy,
        checks={ViolationType.AVAILABILITY: check},
    )
    result = lake.probe(monitor)
    assert result.status is CheckStatus.FAIL
    assert result.details["probe"]["reason"] == "compute_unavailable"
    assert CountingCompute.instances == 2  # another config, another plugin


def test_an_unknown_compute_plugin_is_a_usage_error(lake: Any, registry: PluginRegistry) -> None:
    plugins = PluginsSection(compute=PluginSpec(type="sparky"))
    monitor = lake.monitor(lake.contract(), registry=registry, plugins=plugins)

    result = lake.probe(monitor)

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "plugin_error"
    assert (
        "Compute plugin 'sparky' not found in entry-point group floe.computes"
        in (result.details["message"])
    )
    assert result.violation is None


def test_an_invalid_compute_config_is_a_usage_error(lake: Any, registry: PluginRegistry) -> None:
    plugins = PluginsSection(compute=PluginSpec(type="duckdb", config={"databse": ":memory:"}))
    monitor = lake.monitor(lake.contract(), registry=registry, plugins=plugins)

    result = lake.probe(monitor)

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "plugin_error"
    assert "plugins.compute.config.databse" in result.details["message"]


def test_a_healthy_compute_engine_is_asked_again_only_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One engine serves every contract: its healthy answer is reused for a few seconds,
    a failure never is."""
    from floe_core.monitoring.checks import _availability_probe as probe

    clock = [1000.0]
    monkeypatch.setattr(probe.time, "monotonic", lambda: clock[0])
    healthy = CountingCompute({})
    assert probe.recent_health(healthy).ok
    assert probe.recent_health(healthy).ok
    assert healthy.probes == 1
    clock[0] += probe.HEALTHY_FOR_SECONDS + 0.1
    assert probe.recent_health(healthy).ok
    assert healthy.probes == 2
    failing = CountingCompute({"status": "unhealthy"})
    assert not probe.recent_health(failing).ok
    assert not probe.recent_health(failing).ok
    assert failing.probes == 2
