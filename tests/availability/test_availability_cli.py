"""``floe sla check`` with the availability check: a missing table is a violation (exit 1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests._factories import ORDERS_PROPERTIES, odcs, table_object


def contract_file(write_contract: Callable[..., Path], *sla: dict[str, Any]) -> Path:
    sla = [
        {"property": "availability", "value": "99.9%"},
        {"property": "latency", "value": 6, "unit": "h", "element": "updated_at"},
        *sla,
    ]
    return write_contract(odcs(table_object("sales.orders", ORDERS_PROPERTIES), sla=sla))


def test_missing_table_exits_1_with_an_availability_violation(
    catalog: Any, manifest: Path, write_contract: Callable[..., Path], floe: Callable[..., Any]
) -> None:
    path = contract_file(write_contract)

    result = floe("sla", "check", path, "--manifest", manifest, "--format", "json")

    assert result.exception is None
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    [violation] = report["violations"]
    assert violation["violation_type"] == "availability"
    assert violation["severity"] == "error"
    assert violation["element"] == "sales.orders"
    assert "uptime 0.0% over the last 24h (1 of 1 probes failed)" in violation["message"]
    assert "Table 'sales.orders' does not exist in catalog 'floe'" in violation["message"]
    results = {r["check_type"]: r for r in report["results"]}
    assert results["availability"]["status"] == "fail"
    for other in ("freshness", "schema_drift"):
        assert results[other]["status"] == "error"
        assert results[other]["details"]["reason"] == "table_not_found"

    table = floe("sla", "check", path, "--manifest", manifest)
    assert table.exit_code == 1
    assert "FAIL: 1 violation(s) (1 error); 1 at or above error → exit 1" in table.stdout

    only_freshness = floe("sla", "check", path, "--manifest", manifest, "--check", "freshness")
    assert only_freshness.exit_code == 2
    assert only_freshness.stderr.startswith("Error: Table 'sales.orders' does not exist")


def test_healthy_table_passes(
    lake: Any,
    manifest: Path,
    write_contract: Callable[..., Path],
    floe: Callable[..., Any],
) -> None:
    path = contract_file(write_contract)

    result = floe(
        "sla", "check", path, "--manifest", manifest, "--format", "json", "--check", "availability"
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    [only] = json.loads(result.stdout)["results"]
    assert only["check_type"] == "availability"
    assert only["status"] == "pass"
    assert only["details"]["uptime_pct"] == 100.0
    assert only["details"]["target_pct"] == 99.9


def test_bad_availability_sla_is_a_contract_error(
    manifest: Path, write_contract: Callable[..., Path], floe: Callable[..., Any]
) -> None:
    path = contract_file(write_contract)
    doc = yaml.safe_load(path.read_text())
    doc["slaProperties"][0] = {"property": "availability", "value": 99.9, "unit": "nines"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))

    result = floe("sla", "check", path, "--manifest", manifest)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}, at slaProperties[0].unit (line ")
    assert "unknown unit 'nines'" in result.stderr


def test_help_lists_the_availability_check(floe: Callable[..., Any]) -> None:
    result = floe("sla", "check", "--help")
    assert "availability" in result.stdout
