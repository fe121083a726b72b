"""A probe that runs out of time is a failed probe (reason timeout), recorded by the check
itself before the runner's check_timeout_seconds gives up on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from floe_core.config import MonitoringConfig
from floe_core.events import CheckReport, CheckResult, CheckStatus, ViolationType
from floe_core.manifest import PluginSpec, PluginsSection
from floe_core.plugins.compute import ComputePlugin, ConnectionResult
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState
from floe_core.plugins.pyiceberg_catalogs import SqlCatalogPlugin
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.testing.iceberg import catalog_config

ONE_SECOND = MonitoringConfig(check_timeout_seconds=1)
ByType = Callable[[CheckReport], dict[str, CheckResult]]


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: hung plugin calls return, and their threads finish."""
    event = threading.Event()
    yield event
    event.set()
    for thread in threading.enumerate():
        if thread.name in ("floe-check", "floe-availability-probe"):
            thread.join(timeout=10)


class HangingCatalog(SqlCatalogPlugin):
    """The real SQL catalog, except that loading a table hangs until released."""

    def __init__(self, config: Any, release: threading.Event) -> None:
        super().__init__(config)
        self.release = release

    def load_table(self, identifier: str) -> Any:
        self.release.wait(timeout=10)
        return super().load_table(identifier)


class HangingCompute(ComputePlugin):
    """A compute engine that does not answer until released."""

    release: threading.Event

    name = "hanging"
    version = "1.0"
    floe_api_version = FLOE_API_VERSION

    def validate_connection(self) -> ConnectionResult:
        self.release.wait(timeout=10)
        return ConnectionResult(status=HealthState.HEALTHY, latency_ms=0.0)


def test_a_hanging_table_load_is_a_failed_probe(
    lake: Any, release: threading.Event, by_type: ByType
) -> None:
    catalog = HangingCatalog(catalog_config(lake.warehouse), release)
    sla = [lake.availability(99.9, "%"), {"property": "latency", "value": 6, "unit": "h"}]
    monitor = lake.monitor(lake.contract(sla, properties=True), catalog=catalog, config=ONE_SECOND)

    started = time.monotonic()
    report = lake.run(monitor)
    elapsed = time.monotonic() - started

    results = by_type(report)
    availability = results["availability"]
    assert availability.status is CheckStatus.FAIL  # recorded by the check, not an error
    assert availability.duration_seconds < 1.0
    probe = availability.details["probe"]
    assert probe["timeout_seconds"] == 0.9
    assert probe["reason"] == "timeout"
    failed = probe["steps"][-1]
    assert (failed["step"], failed["target"], failed["ok"]) == ("table", "sales.orders", False)
    assert failed["latency_ms"] >= 800
    assert "did not answer within the probe's 0.9s deadline" in failed["message"]
    assert availability.details["consecutive_failures"] == 1
    [event] = report.violations
    assert event.metadata["reason"] == "timeout"
    assert event.severity.value == "error"
    # The other checks wait on the same table load until the runner gives up on them.
    for other in ("freshness", "schema_drift"):
        assert results[other].status is CheckStatus.ERROR
        assert results[other].details["reason"] == "timeout"
    assert elapsed < 3


def test_a_hanging_compute_engine_is_a_failed_probe(
    lake: Any, release: threading.Event, by_type: ByType
) -> None:
    HangingCompute.release = release
    registry = PluginRegistry(entry_points_fn=lambda group: [])
    registry.register(PluginType.COMPUTE, "hanging", HangingCompute)
    monitor = lake.monitor(
        lake.contract([lake.availability(99.9, "%")], properties=True),
        config=ONE_SECOND,
        registry=registry,
        plugins=PluginsSection(compute=PluginSpec(type="hanging")),
    )

    report = lake.run(monitor)

    results = by_type(report)
    assert results["schema_drift"].status is CheckStatus.PASS
    availability = results["availability"]
    assert availability.status is CheckStatus.FAIL
    steps = availability.details["probe"]["steps"]
    assert [(s["step"], s["ok"], s["reason"]) for s in steps] == [
        ("catalog", True, None),
        ("table", True, None),
        ("compute", False, "timeout"),
    ]
    assert "the compute engine may be slow or unreachable" in steps[-1]["message"]
    assert report.violations[0].violation_type is ViolationType.AVAILABILITY
