"""floe's metrics over OTLP/HTTP, sent to a receiver the test starts and decoded with
``opentelemetry-proto``: the instruments' names, their attributes, the resource; from
``floe sla check`` (once, at exit) and from the monitor's provider (next to Prometheus); a
collector that is down costs one warning; and only an explicit ``OTEL_*`` asks for it."""

from __future__ import annotations

import json
import logging
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
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, TimestamptzType

from floe_core.events import CheckStatus, ViolationSeverity, ViolationType
from floe_core.telemetry.metrics import prometheus_exporter
from floe_core.telemetry.otlp_metrics import wanted
from floe_core.testing.iceberg import create_table
from floe_core.testing.receiver import HttpReceiver, Received
from tests._factories import ORDERS_PROPERTIES, T0, check_result, odcs, table_object, violation

FLOE = str(Path(sys.executable).parent / "floe")
SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "updated_at", TimestamptzType()),
)
Points = dict[str, list[tuple[dict[str, str], float]]]


# Reading what the receiver got --------------------------------------------------------------


def decoded(request: Received) -> tuple[dict[str, str], Points]:
    """One OTLP metrics request: its resource's attributes, and {metric: [(attributes,
    value)]} (a histogram's value is its count)."""
    assert request.path == "/v1/metrics"
    assert request.headers["content-type"] == "application/x-protobuf"
    export = ExportMetricsServiceRequest()
    export.ParseFromString(request.body)
    [resource_metrics] = export.resource_metrics
    resource = {a.key: a.value.string_value for a in resource_metrics.resource.attributes}
    points: Points = {}
    for scope in resource_metrics.scope_metrics:
        assert scope.scope.name == "floe"
        for metric in scope.metrics:
            kind = metric.WhichOneof("data")
            for point in getattr(metric, kind).data_points:
                attributes = {a.key: a.value.string_value for a in point.attributes}
                if kind == "histogram":
                    value = float(point.count)
                else:
                    value = float(getattr(point, point.WhichOneof("value")))
                points.setdefault(metric.name, []).append((attributes, value))
    return resource, points


def metric_requests(receiver: HttpReceiver) -> list[Received]:
    return [r for r in receiver.requests if r.path == "/v1/metrics"]


def without_otel() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


# Which environment asks for metrics --------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "asked"),
    [
        ({}, False),
        # The spec's default exporter is otlp; floe still waits to be asked.
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, False),
        ({"OTEL_METRICS_EXPORTER": "otlp"}, True),
        ({"OTEL_METRICS_EXPORTER": " OTLP "}, True),
        ({"OTEL_METRICS_EXPORTER": "console, otlp"}, True),
        ({"OTEL_METRICS_EXPORTER": "none"}, False),
        ({"OTEL_METRICS_EXPORTER": "prometheus"}, False),
        ({"OTEL_METRICS_EXPORTER": "otlpx"}, False),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics"}, True),
        ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "  "}, False),
        (
            {
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics",
                "OTEL_METRICS_EXPORTER": "none",
            },
            False,
        ),
    ],
)
def test_only_an_explicit_otel_variable_asks_for_metrics(env: dict[str, str], asked: bool) -> None:
    assert wanted(env) is asked


def test_a_check_not_asked_loads_no_exporter() -> None:
    code = (
        "import sys; from floe_core.telemetry import otlp_metrics; "
        "assert otlp_metrics.one_off() is None; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.exporter') "
        "or m.startswith('opentelemetry.sdk')))"
    )
    env = {**without_otel(), "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# The monitor: one set of instruments, read by Prometheus and pushed over OTLP -------------


def test_the_monitors_metrics_reach_prometheus_and_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    with HttpReceiver() as receiver:
        monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url(""))
        monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "100")  # ms
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        export = prometheus_exporter(otlp=True)
        try:
            stale = {"tables": [{"age_seconds": 9000.0}]}
            export.metrics.check_finished(
                check_result(T0, CheckStatus.FAIL, details=stale, duration=0.5), [violation(T0)]
            )
            export.metrics.alert_delivered("slack", "failed")
            receiver.wait_for(1)  # pushed on the interval, before any shutdown
            scraped = export.render().decode()
        finally:
            export.shutdown()
        requests = metric_requests(receiver)
    assert 'floe_contract_checks_total{contract="orders",status="fail",type="freshness"}' in (
        scraped
    )
    # The last push is cumulative: everything, once.
    resource, points = decoded(requests[-1])
    assert resource["service.name"] == "floe"
    assert resource["deployment.environment"] == "test"
    assert points["floe_contract_checks"] == [
        ({"contract": "orders", "type": "freshness", "status": "fail"}, 1.0)
    ]
    assert points["floe_contract_violations"] == [
        ({"contract": "orders", "type": "freshness", "severity": "error"}, 1.0)
    ]
    assert points["floe_contract_check_duration_seconds"] == [({"type": "freshness"}, 1.0)]
    assert points["floe_contract_freshness_seconds"] == [({"contract": "orders"}, 9000.0)]
    assert points["floe_alert_deliveries"] == [({"channel": "slack", "status": "failed"}, 1.0)]
    assert points["floe_alert_delivery_failures"] == [({"channel": "slack"}, 1.0)]


# floe sla check: its one run, sent once at exit -------------------------------------------


def orders(catalog: Any, age: timedelta) -> None:
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    at = datetime.now(UTC) - age
    table.append(pa.table({"id": [1, 2], "updated_at": [at, at]}, schema=table.schema().as_arrow()))


def check(tmp_path: Path, manifest: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    doc = odcs(
        table_object("sales.orders", [dict(p) for p in ORDERS_PROPERTIES]),
        sla=[{"property": "latency", "value": 1, "unit": "h", "element": "orders.updated_at"}],
    )
    contract = tmp_path / "orders.yaml"
    contract.write_text(yaml.safe_dump(doc))
    return subprocess.run(
        [FLOE, "sla", "check", str(contract), "--manifest", str(manifest),
         "--format", "json", "--no-persist"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_check_run_sends_its_metrics_once_at_exit(
    tmp_path: Path, catalog: Any, manifest: Path
) -> None:
    orders(catalog, timedelta(hours=3))
    with HttpReceiver() as receiver:
        env = {
            **without_otel(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url("").rstrip("/"),  # traces too
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci",
        }
        done = check(tmp_path, manifest, env)
        requests = metric_requests(receiver)
    assert done.returncode == 1, done.stderr
    assert "WARNING" not in done.stderr
    report = json.loads(done.stdout)
    [request] = requests  # once, at exit
    resource, points = decoded(request)
    assert resource["service.name"] == "floe"
    assert resource["deployment.environment"] == "ci"
    checks = {(a["contract"], a["type"], a["status"]): v for a, v in points["floe_contract_checks"]}
    assert checks == {("orders", r["check_type"], r["status"]): 1.0 for r in report["results"]}
    assert ("orders", "freshness", "fail") in checks
    violations: dict[tuple[str, str, str], float] = {}
    for event in report["violations"]:
        key = ("orders", event["violation_type"], event["severity"])
        violations[key] = violations.get(key, 0.0) + 1
    assert {
        (a["contract"], a["type"], a["severity"]): v for a, v in points["floe_contract_violations"]
    } == violations
    assert ("orders", ViolationType.FRESHNESS.value, ViolationSeverity.ERROR.value) in violations
    durations = {a["type"]: v for a, v in points["floe_contract_check_duration_seconds"]}
    assert durations == {r["check_type"]: 1.0 for r in report["results"]}
    [(attributes, age)] = points["floe_contract_freshness_seconds"]
    assert attributes == {"contract": "orders"}
    assert 3 * 3600 - 60 < age < 3 * 3600 + 600


def test_a_collector_that_is_down_costs_one_warning(
    tmp_path: Path, catalog: Any, manifest: Path, closed_port: int
) -> None:
    orders(catalog, timedelta(hours=3))
    started = time.monotonic()
    plain = check(tmp_path, manifest, without_otel())
    without = time.monotonic() - started
    env = {
        **without_otel(),
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"http://127.0.0.1:{closed_port}/v1/metrics",
    }
    started = time.monotonic()
    down = check(tmp_path, manifest, env)
    took = time.monotonic() - started
    assert down.returncode == plain.returncode == 1
    results = {r["check_type"]: r["status"] for r in json.loads(down.stdout)["results"]}
    assert results == {r["check_type"]: r["status"] for r in json.loads(plain.stdout)["results"]}
    warnings = [line for line in down.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, down.stderr
    assert f"metrics could not be exported to http://127.0.0.1:{closed_port}" in warnings[0]
    assert "Traceback" not in down.stderr
    # The export gives up after about a second at exit (2 s at most).
    assert took < without + 3.0


def test_settings_the_sdk_refuses_leave_prometheus_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "0")  # the SDK raises on it
    with caplog.at_level(logging.WARNING), prometheus_exporter(otlp=True) as export:
        export.metrics.overrun("freshness")
        assert 'floe_monitor_overruns_total{type="freshness"} 1.0' in export.render().decode()
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage().startswith(
        "metrics could not be exported to http://localhost:4318/v1/metrics"
    )
