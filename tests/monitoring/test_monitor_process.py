"""``floe sla monitor`` as a real process on a real warehouse: checks at their intervals,
violations, alerts at a local receiver, metrics parsed from /metrics, a contract registered
from another process, SIGTERM; and two replicas on the real PostgreSQL."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from floe_core.testing.iceberg import create_table
from floe_core.testing.receiver import HttpReceiver
from tests.monitoring._process import (
    SCHEMA,
    Monitor,
    append,
    contract,
    floe_cli,
    metrics,
    wait_until,
    write_manifest,
)


def test_the_monitor_process_end_to_end(
    tmp_path: Path, warehouse: Path, catalog: Any, env: dict[str, str]
) -> None:
    for name in ("orders", "events"):
        create_table(catalog, f"sales.{name}", SCHEMA)
        append(catalog, f"sales.{name}", timedelta(minutes=1))
    with HttpReceiver() as receiver:
        manifest = write_manifest(tmp_path / "manifest.yaml", warehouse, receiver)
        orders = tmp_path / "orders.yaml"
        orders.write_text(yaml.safe_dump(contract("orders", "sales.orders")))
        assert (
            floe_cli(env, tmp_path, "sla", "register", orders, "--manifest", manifest).returncode
            == 0
        )
        monitor = Monitor(tmp_path, manifest, env)
        try:
            assert monitor.get("/healthz").status_code == 200
            wait_until(lambda: monitor.get("/readyz").status_code == 200, what="ready")
            wait_until(
                lambda: Counter(r["floe.check.type"] for r in monitor.runs())["freshness"] >= 2,
                what="two freshness runs",
            )
            first = {(r["floe.contract.name"], r["floe.check.type"]) for r in monitor.runs()}
            assert first == {
                ("orders", "freshness"),
                ("orders", "schema_drift"),
                ("orders", "availability"),
            }  # no quality rules, no lifecycle: not scheduled
            assert all(r["floe.check.status"] == "pass" for r in monitor.runs())

            # Registered from another process while the monitor runs.
            events = tmp_path / "events.yaml"
            events.write_text(yaml.safe_dump(contract("events", "sales.events")))
            done = floe_cli(env, tmp_path, "sla", "register", events, "--manifest", manifest)
            assert done.returncode == 0, done.stderr
            wait_until(
                lambda: any(r["floe.contract.name"] == "events" for r in monitor.runs()),
                what="the new contract's first run",
            )

            # The table goes stale (a commit 3 h old is now the newest) and drifts.
            catalog.drop_table("sales.orders")
            create_table(catalog, "sales.orders", SCHEMA)
            table = catalog.load_table("sales.orders")
            with table.update_schema() as update:
                update.delete_column("status")
            append_old = catalog.load_table("sales.orders")
            old = datetime.now(UTC) - timedelta(hours=3)
            append_old.append(
                pa.table(
                    {"id": [1], "updated_at": [old]},
                    schema=append_old.schema().as_arrow(),
                )
            )
            wait_until(
                lambda: (
                    {"freshness", "schema_drift"}
                    <= {
                        r["floe.check.type"]
                        for r in monitor.runs()
                        if r["floe.contract.name"] == "orders" and r["floe.check.status"] == "fail"
                    }
                ),
                what="freshness and drift failures",
            )
            received = receiver.wait_for(1, timeout=20)
            alerted = {
                (event["data"]["contractName"], event["data"]["violationType"])
                for request in received
                for event in (
                    request.json() if isinstance(request.json(), list) else [request.json()]
                )
            }
            assert ("orders", "freshness") in alerted or ("orders", "schema_drift") in alerted

            samples = metrics(monitor)
            checks = samples["floe_contract_checks"]
            assert any(
                s.labels == {"contract": "orders", "type": "freshness", "status": "fail"}
                and s.value >= 1
                for s in checks
            )
            violations = samples["floe_contract_violations"]
            assert any(s.labels["contract"] == "orders" for s in violations)
            assert "floe_monitor_schedule_lag_seconds" in samples

            # A freshness run can catch the table between its drop and the old commit (no
            # age measured, the gauge keeps its last value): the next one measures 3 h.
            def stale_gauge() -> bool:
                gauge = metrics(monitor)["floe_contract_freshness_seconds"]
                return any(s.labels["contract"] == "orders" and s.value > 3600 for s in gauge)

            wait_until(stale_gauge, what="the freshness gauge at the 3 h old commit")

            status = monitor.get("/status").json()
            assert status["registered_contracts"] == 2
            assert status["mode"] == "scheduled"
            assert status["replicas"] == 1
            assert monitor.get("/").text.startswith("<!DOCTYPE html>")
        finally:
            started = time.monotonic()
            code = monitor.stop()
            took = time.monotonic() - started
    assert code == 0, monitor.log.read_text()
    assert took < 10
    assert any("stopped" in line.get("message", "") for line in monitor.lines())


def test_a_second_monitor_on_the_same_sqlite_database_refuses(
    tmp_path: Path, warehouse: Path, catalog: Any, env: dict[str, str]
) -> None:
    manifest = write_manifest(tmp_path / "manifest.yaml", warehouse, None)
    first = Monitor(tmp_path, manifest, env)
    try:
        second = floe_cli(env, tmp_path, "sla", "monitor", "--manifest", manifest, "--port", "0")
        assert second.returncode == 2
        assert "another floe monitor already runs on this SQLite state database" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        assert first.stop() == 0


def test_two_replicas_on_postgresql_share_the_work_and_take_over(
    tmp_path: Path,
    warehouse: Path,
    catalog: Any,
    new_postgres_database: Callable[[], str],
) -> None:
    state = new_postgres_database()
    env = {**os.environ, "FLOE_STATE_URL": state}
    manifest = write_manifest(tmp_path / "manifest.yaml", warehouse, None)
    # Leases of check_timeout_seconds * 2 + 5: short timeouts make takeover quick to test.
    doc = yaml.safe_load(manifest.read_text())
    doc["data_contracts"]["monitoring"]["check_timeout_seconds"] = 2
    manifest.write_text(yaml.safe_dump(doc))
    assert floe_cli(env, tmp_path, "sla", "db", "upgrade").returncode == 0
    for index in range(6):
        name = f"t{index}"
        create_table(catalog, f"sales.{name}", SCHEMA)
        append(catalog, f"sales.{name}", timedelta(minutes=1))
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(contract(name, f"sales.{name}")))
        assert (
            floe_cli(env, tmp_path, "sla", "register", path, "--manifest", manifest).returncode == 0
        )
    one, two = Monitor(tmp_path, manifest, env), Monitor(tmp_path, manifest, env)
    try:
        wait_until(lambda: len(one.runs()) >= 20 and len(two.runs()) >= 20, what="both working")
        assert two.get("/status").json()["replicas"] == 2
        # SIGKILL: no clean stop, its leases stay until they expire.
        one.process.kill()
        one.process.wait(10)
        killed_at = time.monotonic()
        names = {f"t{i}" for i in range(6)}

        def survivor_covers_everything() -> bool:
            recent = [
                r for r in two.runs()
                if datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
                > datetime.now(UTC) - timedelta(seconds=3)
            ]  # fmt: skip
            return {(r["floe.contract.name"], r["floe.check.type"]) for r in recent} >= {
                (n, t) for n in names for t in ("freshness", "schema_drift", "availability")
            }

        wait_until(survivor_covers_everything, timeout=40, what="takeover")
        takeover = time.monotonic() - killed_at
        lease = 2 * 2 + 5
        assert takeover < 2 * lease + 2, takeover
    finally:
        if one.process.poll() is None:
            one.stop()
        code = two.stop()
    assert code == 0
    # Each (contract, check type, due time) ran once across both replicas.
    due = Counter(
        (r["floe.contract.name"], r["floe.check.type"], r["floe.check.due_at"])
        for r in one.runs() + two.runs()
    )
    assert [key for key, count in due.items() if count > 1] == []


def test_the_monitor_sends_traces_and_lineage_and_counts_lineage_failures(
    tmp_path: Path, warehouse: Path, catalog: Any, env: dict[str, str], closed_port: int
) -> None:
    """The monitor's own wiring: its checks' spans and (with OTEL_METRICS_EXPORTER=otlp) its
    metrics reach an OTLP receiver, its FAIL runs an OpenLineage receiver; a second monitor
    whose lineage backend is down counts the misses."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    create_table(catalog, "sales.orders", SCHEMA)
    append(catalog, "sales.orders", timedelta(hours=3))  # stale: freshness fails
    orders = tmp_path / "orders.yaml"
    orders.write_text(yaml.safe_dump(contract("orders", "sales.orders")))
    with HttpReceiver() as traces, HttpReceiver() as lineage:
        manifest = write_manifest(tmp_path / "manifest.yaml", warehouse, None)
        doc = yaml.safe_load(manifest.read_text())
        transport = {"type": "http", "url": lineage.url("").rstrip("/")}
        doc["plugins"]["lineage_backend"] = {
            "type": "openlineage",
            "config": {"transport": transport},
        }
        manifest.write_text(yaml.safe_dump(doc))
        registered = floe_cli(env, tmp_path, "sla", "register", orders, "--manifest", manifest)
        assert registered.returncode == 0, registered.stderr
        otel = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": traces.url("").rstrip("/"),
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_METRIC_EXPORT_INTERVAL": "300",
        }
        monitor = Monitor(tmp_path, manifest, {**env, **otel})
        try:
            wait_until(
                lambda: any(
                    e["eventType"] == "FAIL"
                    and e["job"]["name"] == "contract_check.orders.freshness"
                    for e in (r.json() for r in list(lineage.requests))
                ),
                what="a FAIL run at the lineage receiver",
            )
        finally:
            assert monitor.stop() == 0
        spans, checks = [], []
        for request in traces.requests:
            if request.path == "/v1/traces":
                export = ExportTraceServiceRequest()
                export.ParseFromString(request.body)
                spans += [
                    s for r in export.resource_spans for sc in r.scope_spans for s in sc.spans
                ]
                continue
            assert request.path == "/v1/metrics"
            pushed = ExportMetricsServiceRequest()
            pushed.ParseFromString(request.body)
            for resource in pushed.resource_metrics:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}
                assert service["service.name"] == "floe"
                checks += [
                    {a.key: a.value.string_value for a in point.attributes}
                    for scope in resource.scope_metrics
                    for metric in scope.metrics
                    if metric.name == "floe_contract_checks"
                    for point in metric.sum.data_points
                ]
        assert {"floe.contract.run", "floe.contract.check"} <= {s.name for s in spans}
        assert {"contract": "orders", "type": "freshness", "status": "fail"} in checks

    down = tmp_path / "down.yaml"
    doc["plugins"]["lineage_backend"]["config"]["transport"]["url"] = (
        f"http://127.0.0.1:{closed_port}"
    )
    down.write_text(yaml.safe_dump(doc))
    other = Monitor(tmp_path, down, env)
    try:
        wait_until(
            lambda: any(s.value >= 1 for s in metrics(other).get("floe_lineage_emit_failures", [])),
            what="floe_lineage_emit_failures_total to count",
        )
        assert any(r["floe.check.status"] == "fail" for r in other.runs())
    finally:
        assert other.stop() == 0
    warnings = [line for line in other.lines() if "OpenLineage" in line.get("message", "")]
    assert len(warnings) == 1
