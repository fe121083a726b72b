"""``floe sla check --alert``: the manifest's channels hear of what the run found."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from floe_core.testing.iceberg import catalog_config, create_table
from tests._factories import odcs, table_object

EVENTS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


@pytest.fixture
def stale(catalog: Any, write_contract: Callable[..., Path]) -> Path:
    """``sales.events``, 5 h old by the real clock, with a 1 h latency SLA."""
    table = create_table(catalog, "sales.events", EVENTS)
    old = datetime.now(UTC) - timedelta(hours=5)
    table.append(pa.table({"id": [1], "updated_at": [old]}, schema=EVENTS))
    columns = [
        {"name": "id", "physicalType": "long", "required": True},
        {"name": "updated_at", "physicalType": "timestamptz"},
    ]
    sla = [{"property": "latency", "value": 1, "unit": "h", "element": "updated_at"}]
    return write_contract(
        odcs(table_object("sales.events", columns, name="events"), name="events", sla=sla)
    )


@pytest.fixture
def alert_manifest(tmp_path: Path, warehouse: Path) -> Callable[..., Path]:
    """A manifest on the test catalog with these alert channels and routing rules."""

    def write(channels: list[dict[str, Any]], rules: list[dict[str, Any]]) -> Path:
        path = tmp_path / "alerting.yaml"
        doc = {
            "apiVersion": "floe.dev/v1",
            "kind": "Manifest",
            "plugins": {
                "catalog": {"type": "sql", "config": catalog_config(warehouse)},
                "alert_channels": channels,
            },
            "data_contracts": {"monitoring": {"alerts": {"routing_rules": rules}}},
        }
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return write


LOG_CHANNEL = {"name": "ops-log", "type": "log", "config": {"logger": "floe.alerts.test"}}
TO_LOG = [{"channel_name": "ops-log", "min_severity": "warning"}]


def test_alert_sends_once_then_deduplicates_and_never_changes_the_exit_status(
    stale: Path,
    alert_manifest: Callable[..., Path],
    floe: Callable[..., Any],
) -> None:
    manifest = alert_manifest([LOG_CHANNEL], TO_LOG)
    args = ("sla", "check", stale, "--manifest", manifest, "--check", "freshness")

    first = floe(*args, "--alert", "--format", "json")
    assert first.exit_code == 1, first.stderr
    assert json.loads(first.stdout)["alerts"] == [
        {
            "channel": "ops-log",
            "kind": "violation",
            "violation_types": ["freshness"],
            "status": "sent",
            "reason": None,
        }
    ]
    # The log channel's record, on stderr as the CLI logs (one line per record).
    [line] = [x for x in first.stderr.splitlines() if "of contract events" in x]
    assert line.startswith("floe: ERROR: ERROR freshness of contract events 1.0.0: ")

    second = floe(*args, "--alert")
    assert second.exit_code == 1
    assert "Alert violation to ops-log [freshness]: suppressed (dedup)" in second.stdout

    assert "of contract events" not in second.stderr
    without = floe(*args, "--format", "json")
    assert "alerts" not in json.loads(without.stdout)
    assert "of contract events" not in without.stderr


@pytest.mark.parametrize(
    ("channels", "rules", "where", "says"),
    [
        (
            [{"name": "chat", "type": "slak"}],
            [],
            "plugins.alert_channels[0].type",
            "pip install floe-alert-slak",
        ),
        (
            [LOG_CHANNEL],
            [{"channel_name": "pager", "min_severity": "error"}],
            "data_contracts.monitoring.alerts.routing_rules[0].channel_name",
            "routing rule names alert channel 'pager', which is not configured",
        ),
        (
            [{"name": "ops-log", "type": "log", "config": {"logger": "", "token": "tok-9876"}}],
            [],
            "plugins.alert_channels[0].config",
            "config.logger: String should have at least 1 character",
        ),
        (
            [LOG_CHANNEL, {**LOG_CHANNEL, "config": {}}],
            [],
            "plugins.alert_channels",
            "two alert channels are named 'ops-log'",
        ),
    ],
    ids=["unknown-type", "undefined-channel", "invalid-config", "duplicate-name"],
)
def test_a_misconfigured_channel_is_one_error_and_nothing_runs(
    stale: Path,
    alert_manifest: Callable[..., Path],
    floe: Callable[..., Any],
    channels: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    where: str,
    says: str,
) -> None:
    manifest = alert_manifest(channels, rules)
    result = floe("sla", "check", stale, "--manifest", manifest, "--alert")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.exception is None
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: manifest ")
    assert f"at {where}" in line
    assert says in line
    assert "tok-9876" not in line
