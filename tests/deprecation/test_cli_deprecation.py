"""``floe sla check --check deprecation``, end to end through the real CLI.

The CLI reads the real clock, so the dates here are decades away from any band edge.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPORT_KEYS = {"contract_name", "contract_version", "results", "violations"}


def contract(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "orders-v1",
        "name": "orders",
        "version": "1.0.0",
        "status": status,
        "schema": [{"name": "orders", "physicalName": "sales.orders"}],
        "slaProperties": [
            {"property": "endOfSupport", "value": "2001-01-01"},
            {"property": "endOfLife", "value": "2999-12-31"},
        ],
        "customProperties": [
            {"property": "replacedBy", "value": "orders-v2"},
            {"property": "consumers", "value": ["finance-dashboard"]},
        ],
        "roles": [{"role": "analyst", "access": "read"}],
        **extra,
    }


def check(
    floe: Callable[..., Any], path: Path, manifest: Path, *args: str
) -> tuple[Any, dict[str, Any]]:
    result = floe("sla", "check", path, "--manifest", manifest, "--check", "deprecation", *args)
    assert result.exception is None, repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    document = json.loads(result.stdout) if "--format" in args else {}
    return result, document


def test_json_report_of_a_deprecated_contract(
    floe: Callable[..., Any], write_contract: Callable[..., Path], manifest: Path
) -> None:
    path = write_contract(contract("deprecated"))

    result, document = check(floe, path, manifest, "--format", "json")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert set(document) == REPORT_KEYS
    [outcome] = document["results"]
    assert outcome["check_type"] == "deprecation"
    assert outcome["status"] == "pass"
    details = outcome["details"]
    assert details["status"] == "deprecated"
    assert (details["end_of_support"], details["end_of_life"]) == ("2001-01-01", "2999-12-31")
    assert details["days_until_end_of_support"] < -9000
    assert details["days_until_end_of_life"] > 300_000
    assert details["replaced_by"] == "orders-v2"
    [event] = document["violations"]
    assert outcome["violation"] == event
    assert event["violation_type"] == "deprecation"
    assert event["severity"] == "warning"
    assert event["message"].startswith(
        "Contract orders 1.0.0 is deprecated, reached end of support on 2001-01-01 ("
    )
    assert "reaches end of life on 2999-12-31" in event["message"]
    assert event["message"].endswith("; migrate to orders-v2")
    assert event["affected_consumers"] == ["finance-dashboard", "analyst"]
    assert event["metadata"]["reasons"] == "deprecated,end_of_support_passed"


@pytest.mark.parametrize(
    ("status", "fail_on", "exit_code", "severity"),
    [
        ("deprecated", "error", 0, "warning"),
        ("deprecated", "warning", 1, "warning"),
        ("retired", "error", 1, "error"),
        ("retired", "critical", 0, "error"),
    ],
)
def test_exit_status_follows_fail_on(
    floe: Callable[..., Any],
    write_contract: Callable[..., Path],
    manifest: Path,
    status: str,
    fail_on: str,
    exit_code: int,
    severity: str,
) -> None:
    path = write_contract(contract(status))

    result, document = check(floe, path, manifest, "--format", "json", "--fail-on", fail_on)

    assert result.exit_code == exit_code, result.stdout + result.stderr
    assert [e["severity"] for e in document["violations"]] == [severity]
    assert document["results"][0]["status"] == ("fail" if severity == "error" else "pass")


def test_runs_without_a_reachable_catalog(
    floe: Callable[..., Any], write_contract: Callable[..., Path], tmp_path: Path
) -> None:
    """The check reads only the contract; a catalog that does not exist does not stop it."""
    missing = tmp_path / "nowhere"
    manifest = write_contract(
        yaml.safe_dump(
            {
                "apiVersion": "floe.dev/v1",
                "kind": "Manifest",
                "plugins": {
                    "catalog": {
                        "type": "sql",
                        "config": {
                            "name": "floe",
                            "uri": f"sqlite:///{missing / 'catalog.db'}",
                            "warehouse": (missing / "warehouse").as_uri(),
                        },
                    }
                },
            }
        ),
        name="manifest-missing.yaml",
    )
    path = write_contract(contract("retired"))

    result, document = check(floe, path, manifest, "--format", "json")

    assert result.exit_code == 1, result.stdout + result.stderr
    assert [r["status"] for r in document["results"]] == ["fail"]
    assert not missing.exists()


def test_table_output_shows_the_finding(
    floe: Callable[..., Any], write_contract: Callable[..., Path], manifest: Path
) -> None:
    path = write_contract(contract("retired"))

    result, _ = check(floe, path, manifest)

    assert result.exit_code == 1
    assert "deprecation" in result.stdout
    assert "ERROR" in result.stdout
    assert "Contract orders 1.0.0 is retired" in result.stdout
    assert "exit 1" in result.stdout
