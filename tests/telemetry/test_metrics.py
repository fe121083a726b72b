"""The monitor's metrics as Prometheus scrapes them: names, label sets, values, isolation.

Everything goes through the real OpenTelemetry SDK and its Prometheus reader, rendered by
prometheus_client and parsed back with its own parser.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import prometheus_client
import pyarrow as pa
import pytest
from opentelemetry import metrics as otel_metrics
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from floe_core.events import CheckResult, CheckStatus, ViolationSeverity, ViolationType
from floe_core.manifest import PluginSpec
from floe_core.monitoring.monitor import ContractMonitor
from floe_core.telemetry.metrics import (
    SECONDS_BUCKETS,
    MonitorMetrics,
    PrometheusExport,
    prometheus_exporter,
)
from floe_core.testing.iceberg import catalog_config, create_table
from tests._factories import T0, check_result, odcs, table_object, violation

FRESHNESS, AVAILABILITY, QUALITY = (
    ViolationType.FRESHNESS,
    ViolationType.AVAILABILITY,
    ViolationType.QUALITY,
)
PASS, FAIL, ERROR, SKIPPED = (
    CheckStatus.PASS,
    CheckStatus.FAIL,
    CheckStatus.ERROR,
    CheckStatus.SKIPPED,
)
HISTOGRAMS = ("floe_contract_check_duration_seconds", "floe_monitor_schedule_lag_seconds")

#: Every sample name the monitor's metrics can produce, as Prometheus stores them.
ALL_SAMPLES = {
    "floe_contract_checks_total",
    "floe_contract_violations_total",
    "floe_contract_freshness_seconds",
    "floe_contract_availability_ratio",
    "floe_contract_quality_score",
    "floe_alert_deliveries_total",
    "floe_alert_delivery_failures_total",
    "floe_monitor_overruns_total",
    *(f"{histogram}_{suffix}" for histogram in HISTOGRAMS for suffix in ("bucket", "count", "sum")),
}


@pytest.fixture
def export() -> Iterator[PrometheusExport]:
    with prometheus_exporter() as built:
        yield built


def scrape(export: PrometheusExport) -> dict[str, tuple[str, list[Sample]]]:
    """{family name: (type, samples)} of one render, parsed by prometheus_client."""
    text = export.render().decode()
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def values(export: PrometheusExport, sample_name: str) -> dict[frozenset[tuple[str, str]], float]:
    """{label set: value} of every sample called ``sample_name``."""
    found = {}
    for _, samples in scrape(export).values():
        for sample in samples:
            if sample.name == sample_name:
                found[frozenset(sample.labels.items())] = sample.value
    return found


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def record_everything(metrics: MonitorMetrics) -> None:
    """One of each: a failed freshness run with two events, measured availability and
    quality runs, a schema-drift error, alert outcomes, an overrun and a late start."""
    stale = {"tables": [{"age_seconds": 120.0}, {"age_seconds": 9000.5}]}
    metrics.check_finished(
        check_result(T0, FAIL, FRESHNESS, details=stale, duration=0.42),
        [violation(T0), violation(T0, ViolationSeverity.WARNING)],
    )
    metrics.check_finished(
        check_result(T0, PASS, AVAILABILITY, details={"uptime_pct": 99.5}, duration=0.003), []
    )
    metrics.check_finished(
        check_result(T0, FAIL, QUALITY, details={"quality_score": 87.5}, duration=1.5),
        [violation(T0, ViolationSeverity.CRITICAL, QUALITY)],
    )
    metrics.check_finished(
        check_result(T0, ERROR, ViolationType.SCHEMA_DRIFT, contract="refunds", duration=30.0),
        [],
    )
    metrics.alert_delivered("slack", "sent")
    metrics.alert_delivered("slack", "suppressed")
    metrics.alert_delivered("pagerduty", "failed")
    metrics.alert_failed("email")
    metrics.overrun("quality")
    metrics.schedule_lag(0.02)


def test_prometheus_sees_exactly_the_documented_families(export: PrometheusExport) -> None:
    record_everything(export.metrics)

    families = scrape(export)

    # The parser names a counter's family without _total; its samples carry it.
    assert {name: kind for name, (kind, _) in families.items()} == {
        "floe_contract_checks": "counter",
        "floe_contract_check_duration_seconds": "histogram",
        "floe_contract_violations": "counter",
        "floe_contract_freshness_seconds": "gauge",
        "floe_contract_availability_ratio": "gauge",
        "floe_contract_quality_score": "gauge",
        "floe_alert_deliveries": "counter",
        "floe_alert_delivery_failures": "counter",
        "floe_monitor_overruns": "counter",
        "floe_monitor_schedule_lag_seconds": "histogram",
    }
    assert {s.name for _, samples in families.values() for s in samples} == ALL_SAMPLES
    text = export.render().decode()
    assert "# TYPE floe_contract_checks_total counter" in text
    assert "target_info" not in text
    assert "otel_scope" not in text
    assert "_created" not in text


def test_label_sets_and_values(export: PrometheusExport) -> None:
    record_everything(export.metrics)

    assert values(export, "floe_contract_checks_total") == {
        labels(contract="orders", type="freshness", status="fail"): 1,
        labels(contract="orders", type="availability", status="pass"): 1,
        labels(contract="orders", type="quality", status="fail"): 1,
        labels(contract="refunds", type="schema_drift", status="error"): 1,
    }
    assert values(export, "floe_contract_violations_total") == {
        labels(contract="orders", type="freshness", severity="error"): 1,
        labels(contract="orders", type="freshness", severity="warning"): 1,
        labels(contract="orders", type="quality", severity="critical"): 1,
    }
    assert values(export, "floe_contract_freshness_seconds") == {labels(contract="orders"): 9000.5}
    assert values(export, "floe_contract_availability_ratio") == {labels(contract="orders"): 0.995}
    assert values(export, "floe_contract_quality_score") == {labels(contract="orders"): 87.5}
    assert values(export, "floe_alert_deliveries_total") == {
        labels(channel="slack", status="sent"): 1,
        labels(channel="slack", status="suppressed"): 1,
        labels(channel="pagerduty", status="failed"): 1,
    }
    # A failed outcome is a failure too; slack's failures exist, at 0, from its first outcome.
    assert values(export, "floe_alert_delivery_failures_total") == {
        labels(channel="slack"): 0,
        labels(channel="pagerduty"): 1,
        labels(channel="email"): 1,
    }
    assert values(export, "floe_monitor_overruns_total") == {labels(type="quality"): 1}


def test_histograms_have_the_buckets_from_1_ms_to_60_s(export: PrometheusExport) -> None:
    record_everything(export.metrics)
    export.metrics.check_finished(check_result(T0, PASS, FRESHNESS, duration=0.0005), [])

    buckets = values(export, "floe_contract_check_duration_seconds_bucket")
    bounds = [*(str(b) for b in SECONDS_BUCKETS), "+Inf"]
    assert (SECONDS_BUCKETS[0], SECONDS_BUCKETS[-1]) == (0.001, 60.0)
    types = ("freshness", "availability", "quality", "schema_drift")
    assert set(buckets) == {labels(type=t, le=le) for t in types for le in bounds}
    freshness = [buckets[labels(type="freshness", le=le)] for le in bounds]
    assert freshness == [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]  # 0.5 ms, then 0.42 s
    assert buckets[labels(type="schema_drift", le="30.0")] == 1  # a timed-out check's 30 s
    assert buckets[labels(type="schema_drift", le="10.0")] == 0
    count = values(export, "floe_contract_check_duration_seconds_count")
    total = values(export, "floe_contract_check_duration_seconds_sum")
    assert count[labels(type="freshness")] == 2
    assert total[labels(type="freshness")] == pytest.approx(0.4205)

    lag = values(export, "floe_monitor_schedule_lag_seconds_bucket")
    assert set(lag) == {labels(le=le) for le in bounds}  # no label but le
    assert [lag[labels(le=le)] for le in ("0.01", "0.025")] == [0, 1]
    assert values(export, "floe_monitor_schedule_lag_seconds_count") == {frozenset(): 1}
    assert values(export, "floe_monitor_schedule_lag_seconds_sum") == {frozenset(): 0.02}


def test_an_early_start_or_a_negative_duration_counts_as_zero(export: PrometheusExport) -> None:
    export.metrics.schedule_lag(-0.5)
    export.metrics.check_finished(check_result(T0, PASS, FRESHNESS, duration=-0.1), [])

    assert values(export, "floe_monitor_schedule_lag_seconds_bucket")[labels(le="0.001")] == 1
    assert values(export, "floe_monitor_schedule_lag_seconds_sum") == {frozenset(): 0}
    duration = values(export, "floe_contract_check_duration_seconds_sum")
    assert duration == {labels(type="freshness"): 0}


NO_DATA = {"tables": [{"age_seconds": 5.0}, {"age_seconds": None, "newest_data": None}]}


@pytest.mark.parametrize(
    ("result", "family"),
    [
        pytest.param(
            check_result(T0, ERROR, FRESHNESS, details={"tables": [{"age_seconds": 5.0}]}),
            "floe_contract_freshness_seconds",
            id="error",
        ),
        pytest.param(
            check_result(T0, SKIPPED, QUALITY, details={"quality_score": 50.0}),
            "floe_contract_quality_score",
            id="skipped",
        ),
        pytest.param(
            check_result(T0, ERROR, AVAILABILITY, details={"uptime_pct": 90.0}),
            "floe_contract_availability_ratio",
            id="availability-error",
        ),
        # A table without data: the stalest table's age is unknown.
        pytest.param(
            check_result(T0, FAIL, FRESHNESS, details=NO_DATA),
            "floe_contract_freshness_seconds",
            id="no-data",
        ),
        pytest.param(
            check_result(T0, PASS, FRESHNESS, details={"tables": []}),
            "floe_contract_freshness_seconds",
            id="no-tables",
        ),
        pytest.param(
            check_result(T0, PASS, QUALITY, details={"quality_score": None}),
            "floe_contract_quality_score",
            id="no-score",
        ),
        pytest.param(
            check_result(T0, PASS, AVAILABILITY, details={"uptime_pct": "99"}),
            "floe_contract_availability_ratio",
            id="not-a-number",
        ),
        # Another type's details set nothing, whatever they hold.
        pytest.param(
            check_result(T0, PASS, ViolationType.SCHEMA_DRIFT, details={"quality_score": 1.0}),
            "floe_contract_quality_score",
            id="other-type",
        ),
    ],
)
def test_a_gauge_is_set_only_by_a_measured_run_of_its_type(
    export: PrometheusExport, result: CheckResult, family: str
) -> None:
    export.metrics.check_finished(result, [])

    assert values(export, family) == {}
    assert values(export, "floe_contract_checks_total") == {
        labels(contract="orders", type=result.check_type.value, status=result.status.value): 1
    }


def test_a_gauge_keeps_its_last_value_from_scrape_to_scrape(export: PrometheusExport) -> None:
    metrics = export.metrics
    metrics.check_finished(check_result(T0, PASS, AVAILABILITY, details={"uptime_pct": 100}), [])
    assert values(export, "floe_contract_availability_ratio") == {labels(contract="orders"): 1.0}
    assert values(export, "floe_contract_availability_ratio") == {labels(contract="orders"): 1.0}

    metrics.check_finished(check_result(T0, FAIL, AVAILABILITY, details={"uptime_pct": 97.5}), [])
    metrics.check_finished(check_result(T0, ERROR, AVAILABILITY, details={"uptime_pct": 1}), [])
    metrics.check_finished(
        check_result(T0, PASS, AVAILABILITY, contract="refunds", details={"uptime_pct": 50}), []
    )

    assert values(export, "floe_contract_availability_ratio") == {
        labels(contract="orders"): 0.975,
        labels(contract="refunds"): 0.5,
    }


def test_counters_accumulate(export: PrometheusExport) -> None:
    for _ in range(3):
        export.metrics.check_finished(check_result(T0, PASS), [])
        export.metrics.alert_delivered("slack", "failed")

    assert values(export, "floe_contract_checks_total") == {
        labels(contract="orders", type="freshness", status="pass"): 3
    }
    assert values(export, "floe_alert_delivery_failures_total") == {labels(channel="slack"): 3}


def test_two_exporters_in_one_process_keep_their_numbers_apart() -> None:
    with prometheus_exporter() as first, prometheus_exporter() as second:
        first.metrics.check_finished(check_result(T0, PASS, contract="orders"), [])
        first.metrics.overrun("freshness")
        second.metrics.check_finished(check_result(T0, FAIL, contract="refunds"), [])

        assert values(first, "floe_contract_checks_total") == {
            labels(contract="orders", type="freshness", status="pass"): 1
        }
        assert values(second, "floe_contract_checks_total") == {
            labels(contract="refunds", type="freshness", status="fail"): 1
        }
        assert values(second, "floe_monitor_overruns_total") == {}
    # Nothing global was touched: prometheus_client's default registry has none of it, and
    # no MeterProvider was set for the process.
    assert b"floe_" not in prometheus_client.generate_latest(prometheus_client.REGISTRY)
    assert "sdk" not in type(otel_metrics.get_meter_provider()).__module__


def test_without_an_sdk_the_methods_are_no_ops(export: PrometheusExport) -> None:
    """The default meter is the global API's: with no MeterProvider set, recording costs a
    call and goes nowhere (and not into an exporter's private registry)."""
    metrics = MonitorMetrics()
    record_everything(metrics)

    assert export.render() == b""


def test_importing_floe_core_loads_neither_the_sdk_nor_prometheus_client() -> None:
    probe = (
        "import floe_core, floe_core.telemetry.metrics, sys\n"
        "print('opentelemetry.sdk' in sys.modules, 'prometheus_client' in sys.modules)\n"
        "from floe_core.events import CheckResult\n"
        "from datetime import datetime, UTC\n"
        "m = floe_core.telemetry.metrics.MonitorMetrics()\n"
        "m.check_finished(CheckResult(id='1', contract_name='c', check_type='quality',\n"
        "    status='pass', duration_seconds=0.1, timestamp=datetime.now(UTC),\n"
        "    details={'quality_score': 90.0}), [])\n"
        "m.alert_delivered('slack', 'failed'); m.alert_failed('slack')\n"
        "m.overrun('freshness'); m.schedule_lag(1.0)\n"
        "print('opentelemetry.sdk' in sys.modules, 'prometheus_client' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["False False", "False False", ""]
    assert done.stderr == ""


def test_render_content_type_and_shutdown() -> None:
    export = prometheus_exporter()
    assert export.content_type == prometheus_client.CONTENT_TYPE_LATEST
    assert export.render() == b""  # nothing recorded: no family, not even a HELP line
    export.metrics.overrun("freshness")
    assert export.render().startswith(b"# HELP floe_monitor_overruns_total ")

    export.shutdown()
    export.shutdown()  # again: nothing happens
    export.metrics.overrun("freshness")  # dropped, not an error

    assert export.render() == b""


SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False)])


def test_a_real_monitor_run_feeds_the_gauges(
    catalog: Any, warehouse: Path, write_contract: Callable[..., Path], export: PrometheusExport
) -> None:
    """The details the real freshness and availability checks write are what the gauges read."""
    create_table(catalog, "sales.orders", SCHEMA)
    table = catalog.load_table("sales.orders")
    table.append(pa.table({"id": [1]}, schema=SCHEMA))
    committed = datetime.fromtimestamp(
        catalog.load_table("sales.orders").current_snapshot().timestamp_ms / 1000, UTC
    )
    now = committed + timedelta(hours=3)
    monitor = ContractMonitor(
        catalog=PluginSpec(type="sql", config=catalog_config(warehouse)), clock=lambda: now
    )
    doc = odcs(table_object(), sla=[{"property": "freshness", "value": "PT2H"}])
    monitor.register(write_contract(doc))

    report = asyncio.run(monitor.run("orders", ["freshness", "availability"]))
    for result in report.results:
        events = [v for v in report.violations if v.violation_type is result.check_type]
        export.metrics.check_finished(result, events)

    assert values(export, "floe_contract_checks_total") == {
        labels(contract="orders", type="freshness", status="fail"): 1,
        labels(contract="orders", type="availability", status="pass"): 1,
    }
    assert values(export, "floe_contract_violations_total") == {
        labels(contract="orders", type="freshness", severity="error"): 1
    }
    assert values(export, "floe_contract_freshness_seconds") == {
        labels(contract="orders"): pytest.approx(3 * 3600, abs=0.001)
    }
    assert values(export, "floe_contract_availability_ratio") == {labels(contract="orders"): 1.0}
