"""OpenLineage events as ``floe sla check`` sends them to a receiver the test starts: each
validates against the spec's schemas (and floe's facet schema); START/FAIL pairs, job names,
datasets; and a backend that is down or hangs never changes or slows the checks."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_core.testing.iceberg import catalog_config, create_table
from floe_core.testing.receiver import Answer, HttpReceiver
from tests._factories import odcs, table_object
from tests.lineage.test_events import validate_event

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "updated_at", TimestamptzType()),
)
PROPERTIES = [
    {"name": "id", "logicalType": "integer", "required": True,
     "quality": [{"name": "ids_unique", "metric": "duplicateValues", "mustBe": 0}]},
    {"name": "updated_at", "logicalType": "timestamp"},
    {"name": "region", "logicalType": "string"},  # not in the table: drift
]  # fmt: skip


@pytest.fixture
def stale(catalog: Any) -> None:
    """sales.orders, 3 h stale against a 1 h SLA, a duplicated id, one column short."""
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    at = datetime.now(UTC) - timedelta(hours=3)
    rows = {"id": [1, 1, 2], "updated_at": [at, at, at]}
    table.append(pa.table(rows, schema=table.schema().as_arrow()))


def files(tmp_path: Path, warehouse: Path, lineage: dict[str, Any] | None) -> tuple[Path, Path]:
    plugins: dict[str, Any] = {"catalog": {"type": "sql", "config": catalog_config(warehouse)}}
    if lineage is not None:
        plugins["lineage_backend"] = lineage
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "floe.dev/v1", "kind": "Manifest",
                                        "plugins": plugins}))  # fmt: skip
    contract = tmp_path / "orders.yaml"
    doc = odcs(
        table_object("sales.orders", PROPERTIES),
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": "orders.updated_at"}],
    )
    contract.write_text(yaml.safe_dump(doc))
    return contract, manifest


def backend(url: str, **config: Any) -> dict[str, Any]:
    transport = {"type": "http", "url": url, "timeout": 1}
    return {"type": "openlineage", "config": {"transport": transport, **config}}


def test_every_failing_check_is_a_start_and_a_fail_that_follow_the_spec(
    tmp_path: Path, warehouse: Path, stale: None, floe: Callable[..., Any]
) -> None:
    from tests.lineage.test_events import _spec

    spec = _spec()
    with HttpReceiver() as receiver:
        contract, manifest = files(
            tmp_path, warehouse, backend(receiver.url("").rstrip("/"), namespace="analytics")
        )
        done = floe("sla", "check", contract, "--manifest", manifest, "--format", "json")
        assert done.exit_code == 1, done.stderr
        report = json.loads(done.stdout)
        received = [request.json() for request in receiver.requests]
        paths = {request.path for request in receiver.requests}
    assert paths == {"/api/v1/lineage"}
    failing = {r["check_type"] for r in report["results"] if r["status"] == "fail"}
    assert failing >= {"freshness", "schema_drift", "quality"}
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in received:
        validate_event(spec, event)
        runs[event["run"]["runId"]].append(event)
    jobs = {}
    for events in runs.values():
        assert [e["eventType"] for e in events] == ["START", "FAIL"]
        start, fail = events
        assert start["job"] == fail["job"]
        jobs[fail["job"]["name"]] = fail
        assert fail["job"]["namespace"] == "analytics"
        [dataset] = fail["inputs"]
        assert dataset["name"] == "sales.orders"
        assert dataset["namespace"] == "iceberg://floe"
    # Only the failing checks: a passing run sends nothing unless emit_on_pass.
    assert set(jobs) == {f"contract_check.orders.{t}" for t in failing}
    facet = jobs["contract_check.orders.freshness"]["run"]["facets"]["contractViolation"]
    assert facet["violationType"] == "freshness"
    assert facet["contractName"] == "orders"
    quality = jobs["contract_check.orders.quality"]["inputs"][0]["inputFacets"]
    [assertion] = quality["dataQualityAssertions"]["assertions"]
    assert assertion["assertion"] == "ids_unique"
    assert assertion["success"] is False
    drift = jobs["contract_check.orders.schema_drift"]["inputs"][0]["facets"]["schema"]
    assert drift["fields"] == [
        {"name": "id", "type": "long"},
        {"name": "updated_at", "type": "timestamptz"},
    ]


def test_emit_on_pass_sends_complete_runs(
    tmp_path: Path, warehouse: Path, catalog: Any, floe: Callable[..., Any]
) -> None:
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    now = datetime.now(UTC)
    table.append(
        pa.table({"id": [1, 2], "updated_at": [now, now]}, schema=table.schema().as_arrow())
    )
    with HttpReceiver() as receiver:
        contract, manifest = files(
            tmp_path, warehouse, backend(receiver.url("").rstrip("/"), emit_on_pass=True)
        )
        done = floe("sla", "check", contract, "--manifest", manifest, "--check", "freshness")
        assert done.exit_code == 0, done.stdout + done.stderr
        received = [request.json() for request in receiver.requests]
    assert [e["eventType"] for e in received] == ["START", "COMPLETE"]


@pytest.mark.parametrize("trouble", ["down", "hanging"])
def test_a_lineage_backend_in_trouble_never_changes_or_slows_the_checks(
    trouble: str,
    tmp_path: Path,
    warehouse: Path,
    stale: None,
    floe: Callable[..., Any],
    closed_port: int,
) -> None:
    (tmp_path / "plain").mkdir()
    plain_contract, plain_manifest = files(tmp_path / "plain", warehouse, None)
    plain = floe("sla", "check", plain_contract, "--manifest", plain_manifest, "--format",
                 "json", "--no-persist")  # fmt: skip
    with HttpReceiver() as receiver:
        receiver.respond(Answer(delay=10.0))
        url = f"http://127.0.0.1:{closed_port}" if trouble == "down" else receiver.url("")
        contract, manifest = files(tmp_path, warehouse, backend(url.rstrip("/")))
        started = time.monotonic()
        done = floe("sla", "check", contract, "--manifest", manifest, "--format", "json",
                    "--no-persist")  # fmt: skip
        took = time.monotonic() - started
    assert done.exit_code == plain.exit_code == 1
    ours, theirs = json.loads(done.stdout)["results"], json.loads(plain.stdout)["results"]
    assert [(r["check_type"], r["status"]) for r in ours] == [
        (r["check_type"], r["status"]) for r in theirs
    ]
    for mine, other in zip(ours, theirs, strict=True):
        assert abs(mine["duration_seconds"] - other["duration_seconds"]) < 0.05
    warnings = [line for line in done.stderr.splitlines() if "OpenLineage" in line]
    assert len(warnings) == 1, done.stderr
    assert "said once" in warnings[0]
    assert took < 6  # the sender waits 2 s at most at exit, never during the checks


def test_the_api_key_is_sent_but_never_shown(
    tmp_path: Path, warehouse: Path, stale: None, floe: Callable[..., Any]
) -> None:
    from floe_core.manifest import LineageBackendConfig

    auth = {"type": "api_key", "apiKey": "ol-key-0123456789"}
    config = LineageBackendConfig(transport={"type": "http", "url": "http://x", "auth": auth})
    assert "ol-key-0123456789" not in repr(config)
    assert "ol-key-0123456789" not in json.dumps(config.model_dump(mode="json"))
    assert config.settings()["transport"]["auth"]["apiKey"] == "ol-key-0123456789"
    with HttpReceiver() as receiver:
        receiver.respond(Answer(status=401, body=b"bad key ol-key-0123456789"))
        url = receiver.url("").rstrip("/")
        lineage = backend(url)
        lineage["config"]["transport"]["auth"] = auth
        contract, manifest = files(tmp_path, warehouse, lineage)
        done = floe("sla", "check", contract, "--manifest", manifest, "--check", "freshness")
        [request, *_] = receiver.requests
    assert request.headers["authorization"] == "Bearer ol-key-0123456789"
    assert "ol-key-0123456789" not in done.stdout + done.stderr
    assert "HTTP 401" in done.stderr
