"""Which quality plugin evaluates the rules: the manifest's choice, else the built-in duckdb
one (found through floe-core's own entry point); a choice that is not installed skips the
check with a warning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pytest
from pyiceberg.table import Table

from floe_core.events import CheckStatus, ViolationType
from floe_core.manifest import PluginSpec, PluginsSection
from floe_core.monitoring.checks.quality import QualityCheck
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.plugins.quality import (
    QualityPlugin,
    QualityRequest,
    QualityResult,
    RuleResult,
    RuleStatus,
)
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.quality.plugin import DuckDBQualityPlugin
from floe_core.testing.iceberg import catalog_config

TABLE = "sales.orders"
SCHEMA = pa.schema([pa.field("id", pa.int64())])
RULES = [{"id": "rows", "metric": "rowCount", "mustBe": 2}]


class FixedPlugin(QualityPlugin):
    """Measures every rule as ``config["answer"]`` and scores 42."""

    name = "fixed"
    version = "1.0"
    floe_api_version = "1.0"
    created: ClassVar[int] = 0

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        FixedPlugin.created += 1

    def run_checks(self, table: Any, request: QualityRequest) -> QualityResult:
        # A plugin that does not read floe's table views is given pyiceberg's table.
        assert isinstance(table, Table), type(table)
        answer = float(self.config["answer"])
        results = tuple(
            RuleResult(
                rule=rule,
                status=RuleStatus.PASS if rule.holds(answer) else RuleStatus.FAIL,
                measured=answer,
                method="scan",
            )
            for rule in request.rules
        )
        return QualityResult(identifier=request.identifier, results=results, scans=1)

    def calculate_quality_score(self, results: Sequence[RuleResult]) -> float | None:
        return 42.0


class ForgetfulPlugin(FixedPlugin):
    """Returns no result at all."""

    name = "forgetful"

    def run_checks(self, table: Any, request: QualityRequest) -> QualityResult:
        return QualityResult(identifier=request.identifier, results=())


@pytest.fixture
def registry() -> Any:
    """A registry with the test plugins registered explicitly (and dropped afterwards)."""
    registry = PluginRegistry()
    registry.register(PluginType.QUALITY, "fixed", FixedPlugin)
    registry.register(PluginType.QUALITY, "forgetful", ForgetfulPlugin)
    yield registry
    registry.unregister(PluginType.QUALITY, "fixed")
    registry.unregister(PluginType.QUALITY, "forgetful")


@pytest.fixture
def contract(lake: Any) -> dict[str, Any]:
    lake.table(TABLE, SCHEMA, {"id": [1, 2]})
    return lake.contract(lake.obj(TABLE, [{"name": "id"}], RULES))


def quality(name: str, **config: Any) -> PluginsSection:
    return PluginsSection(quality=PluginSpec(type=name, config=config))


def test_the_built_in_plugin_is_found_through_floe_cores_entry_point() -> None:
    registry = PluginRegistry()  # reads the installed entry points, nothing registered by hand

    assert "duckdb" in registry.names(PluginType.QUALITY)
    assert registry.get(PluginType.QUALITY, "duckdb") is DuckDBQualityPlugin


def test_without_a_choice_the_built_in_plugin_runs(lake: Any, contract: dict[str, Any]) -> None:
    result = lake.quality(contract)

    assert (result.status, result.details["plugin"]) == (CheckStatus.PASS, "duckdb")


def test_the_manifests_plugin_runs_with_its_config_and_lives_across_runs(
    lake: Any, contract: dict[str, Any], registry: Any
) -> None:
    monitor = ContractMonitor(
        catalog=PluginSpec(type="sql", config=catalog_config(lake.warehouse)),
        plugins=quality("fixed", answer=7),
        registry=registry,
        checks={ViolationType.QUALITY: QualityCheck()},
    )
    name = monitor.register(lake.write_contract(contract)).contract_name
    before = FixedPlugin.created

    first = asyncio.run(monitor.run(name))
    second = asyncio.run(monitor.run(name))

    assert FixedPlugin.created == before + 1
    for report in (first, second):
        [result] = report.results
        assert result.details["plugin"] == "fixed"
        assert result.details["quality_score"] == 42.0
        assert result.details["rules"][0]["measured"] == 7
        assert result.status is CheckStatus.FAIL
        assert [v.actual_value for v in report.violations] == ["7"]


def test_a_plugin_that_is_not_installed_skips_the_check_with_a_warning(
    lake: Any, contract: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="floe_core"):
        report = lake.run(contract, plugins=quality("soda"))

    [result] = report.results
    assert result.status is CheckStatus.SKIPPED
    assert "floe.quality" in result.details["reason"]
    assert "pip install floe-quality-soda" in result.details["reason"]
    assert report.violations == []
    [record] = [r for r in caplog.records if r.name == "floe_core.monitoring.checks.quality"]
    assert record.levelno == logging.WARNING
    assert "soda" in record.getMessage()


def test_a_plugin_that_loses_results_is_an_error(
    lake: Any, contract: dict[str, Any], registry: Any
) -> None:
    result = lake.quality(contract, plugins=quality("forgetful", answer=1), registry=registry)

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "plugin_error"
    assert "forgetful" in result.details["message"]


def test_a_bad_built_in_plugin_config_is_an_error_naming_the_field(
    lake: Any, contract: dict[str, Any]
) -> None:
    result = lake.quality(contract, plugins=quality("duckdb", memory_limit="lots"))

    assert result.status is CheckStatus.ERROR
    assert result.details["reason"] == "plugin_error"
    assert "plugins.quality.config.memory_limit" in result.details["message"]


def test_the_built_in_plugin_takes_duckdb_limits(lake: Any, contract: dict[str, Any]) -> None:
    result = lake.quality(contract, plugins=quality("duckdb", memory_limit="128MB", threads=1))

    assert result.status is CheckStatus.PASS
