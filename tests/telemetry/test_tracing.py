"""Traces of ``floe sla check`` exported over OTLP/HTTP to a receiver the test starts, decoded
with ``opentelemetry-proto``: span names, attributes, parentage, status, and the violation's
``traceparent``; and without any ``OTEL_*`` variable, nothing is loaded or sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_core.testing.iceberg import create_table
from floe_core.testing.receiver import Answer, HttpReceiver
from tests._factories import ORDERS_PROPERTIES, odcs, table_object

FLOE = str(Path(sys.executable).parent / "floe")
SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "updated_at", TimestamptzType()),
)
QUALITY = [{"metric": "nullValues", "mustBe": 0}]


def orders(catalog: Any, age: timedelta) -> None:
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    at = datetime.now(UTC) - age
    table.append(pa.table({"id": [1, 2], "updated_at": [at, at]}, schema=table.schema().as_arrow()))


def contract_file(tmp_path: Path) -> Path:
    properties = [dict(p) for p in ORDERS_PROPERTIES]
    properties[0]["quality"] = QUALITY
    doc = odcs(
        table_object("sales.orders", properties),
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": "orders.updated_at"}],
    )
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def check(tmp_path: Path, manifest: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOE, "sla", "check", str(contract_file(tmp_path)), "--manifest", str(manifest),
         "--format", "json", "--no-persist"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def spans_of(receiver: HttpReceiver) -> list[Any]:
    spans = []
    for request in receiver.requests:
        assert request.path == "/v1/traces"
        export = ExportTraceServiceRequest()
        export.ParseFromString(request.body)
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "floe"
            for scope in resource.scope_spans:
                assert scope.scope.name == "floe"
                spans += list(scope.spans)
    return spans


def attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        out[attribute.key] = getattr(value, value.WhichOneof("value"))
    return out


def otel_env(receiver: HttpReceiver) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url("").rstrip("/")
    return env


@pytest.mark.parametrize("age", [timedelta(minutes=5), timedelta(hours=3)], ids=["pass", "stale"])
def test_a_check_run_is_a_tree_of_spans(
    age: timedelta, tmp_path: Path, catalog: Any, manifest: Path
) -> None:
    orders(catalog, age)
    with HttpReceiver() as receiver:
        done = check(tmp_path, manifest, otel_env(receiver))
        assert done.returncode == (0 if age < timedelta(hours=1) else 1), done.stderr
        report = json.loads(done.stdout)
        spans = spans_of(receiver)
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    [run] = by_name["floe.contract.run"]
    assert attributes(run) == {"floe.contract.name": "orders", "floe.contract.version": "1.0.0"}
    checks = {attributes(s)["floe.check.type"]: s for s in by_name["floe.contract.check"]}
    assert set(checks) == {r["check_type"] for r in report["results"]}
    for result in report["results"]:
        span = checks[result["check_type"]]
        assert span.parent_span_id == run.span_id
        assert span.trace_id == run.trace_id
        found = attributes(span)
        assert found["floe.check.status"] == result["status"]
        assert found["floe.contract.name"] == "orders"
        assert abs(found["floe.check.duration_ms"] - result["duration_seconds"] * 1000) < 1
        failed = result["status"] in ("fail", "error")
        assert (span.status.code == span.status.STATUS_CODE_ERROR) == failed
    # Child spans: the catalog loads and the engine scan sit under their checks.
    check_ids = {s.span_id for s in checks.values()}
    assert by_name["floe.catalog.load_table"]
    for child in by_name["floe.catalog.load_table"] + by_name.get("floe.engine.scan", []):
        assert child.parent_span_id in check_ids
        assert attributes(child)["floe.table"] == "sales.orders"
    freshness = checks["freshness"]
    if age > timedelta(hours=1):
        assert attributes(freshness)["floe.violation.severity"] in ("error", "critical")
        assert attributes(freshness)["floe.violation.type"] == "freshness"
        [violation] = [v for v in report["violations"] if v["violation_type"] == "freshness"]
        version, trace_id, span_id, _ = violation["metadata"]["traceparent"].split("-")
        assert version == "00"
        assert trace_id == freshness.trace_id.hex()
        assert span_id == freshness.span_id.hex()
    else:
        assert "floe.violation.severity" not in attributes(freshness)


def test_without_otel_variables_nothing_is_loaded_or_sent(
    tmp_path: Path, catalog: Any, manifest: Path
) -> None:
    orders(catalog, timedelta(hours=3))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = check(tmp_path, manifest, env)
    assert done.returncode == 1
    [violation] = [
        v for v in json.loads(done.stdout)["violations"] if v["violation_type"] == "freshness"
    ]
    assert "traceparent" not in violation["metadata"]


@pytest.mark.parametrize("trouble", ["down", "hanging"])
def test_a_collector_in_trouble_costs_one_warning_and_no_time(
    trouble: str, tmp_path: Path, catalog: Any, manifest: Path, closed_port: int
) -> None:
    orders(catalog, timedelta(hours=3))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    started = time.monotonic()
    plain = check(tmp_path, manifest, env)
    without = time.monotonic() - started
    with HttpReceiver() as hanging:
        hanging.respond(Answer(delay=10.0))
        down = f"http://127.0.0.1:{closed_port}"
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = down if trouble == "down" else hanging.url("")
        started = time.monotonic()
        troubled = check(tmp_path, manifest, env)
        took = time.monotonic() - started
    assert troubled.returncode == plain.returncode == 1
    ours, theirs = json.loads(troubled.stdout)["results"], json.loads(plain.stdout)["results"]
    assert [(r["check_type"], r["status"]) for r in ours] == [
        (r["check_type"], r["status"]) for r in theirs
    ]
    for mine, other in zip(ours, theirs, strict=True):
        assert abs(mine["duration_seconds"] - other["duration_seconds"]) < 0.05
    warnings = [line for line in troubled.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, troubled.stderr
    assert "traces could not be exported" in warnings[0]
    assert "Traceback" not in troubled.stderr
    # The export gives up at exit after its timeout (2 s); the checks themselves never wait.
    assert took < without + 3.0
