"""The monitor's metrics, recorded through the OpenTelemetry API and read by Prometheus.

``MonitorMetrics`` records on an OpenTelemetry ``Meter``, by default the global API's
(``get_meter("floe")``): a no-op until an SDK ``MeterProvider`` is set, so a monitor without
metrics pays next to nothing. ``prometheus_exporter()`` builds a private SDK provider whose
Prometheus reader feeds a private ``prometheus_client`` registry, for the monitor's
``/metrics``. Only it imports the SDK, the reader and prometheus_client; ``import floe_core``
and this module load the API alone.

What Prometheus sees (counters get ``_total`` from the exporter; the other names already end
with their unit, if they have one, so the exporter's unit suffix adds nothing):

========================================  =========  ==================================
``floe_contract_checks_total``            counter    contract, type, status
``floe_contract_check_duration_seconds``  histogram  type
``floe_contract_violations_total``        counter    contract, type, severity
``floe_contract_freshness_seconds``       gauge      contract (age of the stalest table)
``floe_contract_availability_ratio``      gauge      contract (uptime over 24 h, 0-1)
``floe_contract_quality_score``           gauge      contract (0-100)
``floe_alert_deliveries_total``           counter    channel, status
``floe_alert_delivery_failures_total``    counter    channel
``floe_monitor_overruns_total``           counter    type
``floe_monitor_schedule_lag_seconds``     histogram  none
``floe_lineage_emit_failures_total``      counter    none
========================================  =========  ==================================

Labels are bounded: contract names, check types, severities, statuses and channel names,
never an element, a message or a value.

Over OTLP too (``floe_core.telemetry.otlp_metrics``), when the environment asks for it with
``OTEL_METRICS_EXPORTER=otlp`` or ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``: the monitor's
provider gets a second reader, pushing the same instruments over OTLP/HTTP every
``OTEL_METRIC_EXPORT_INTERVAL`` (60 s by default), and ``floe sla check`` records its one run
and sends it once at exit. OTLP carries the instrument names above without Prometheus'
``_total`` (``floe_contract_checks``, ``floe_contract_violations``...), and the resource
(service name ``floe``, ``OTEL_RESOURCE_ATTRIBUTES``) that ``/metrics`` leaves out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import Meter, get_meter

from floe_core._version import __version__
from floe_core.events import (
    CheckReport,
    CheckResult,
    CheckStatus,
    ContractViolationEvent,
    ViolationType,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CollectorRegistry

#: Histogram buckets (seconds) from 1 ms to a minute, the range of a check and of its lateness.
SECONDS_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)

#: The statuses of the alert router's ``AlertOutcome`` (sent, suppressed, failed) that count
#: as failures too.
FAILED_DELIVERY_STATUSES = frozenset({"failed"})

_MEASURED = (CheckStatus.PASS, CheckStatus.FAIL)


class MonitorMetrics:
    """The monitor's instruments, and one method per thing the monitor reports."""

    def __init__(self, meter: Meter | None = None) -> None:
        meter = meter if meter is not None else get_meter("floe", __version__)
        self._checks = meter.create_counter(
            "floe_contract_checks", "{check}", "Check runs, by contract, check type and status."
        )
        self._duration = meter.create_histogram(
            "floe_contract_check_duration_seconds",
            "s",
            "How long a check ran, by check type.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self._violations = meter.create_counter(
            "floe_contract_violations",
            "{violation}",
            "Violation events (early warnings included), by contract, type and severity.",
        )
        freshness = meter.create_gauge(
            "floe_contract_freshness_seconds",
            "s",
            "Age of the newest data of the contract's stalest table, at its last freshness check.",
        )
        availability = meter.create_gauge(
            "floe_contract_availability_ratio",
            "1",
            "Share of successful availability probes over the last 24 h (0-1).",
        )
        quality = meter.create_gauge(
            "floe_contract_quality_score",
            "",
            "Weighted quality score of the last quality check (0-100).",
        )
        # Which gauge a measured result of each type sets, and how its value is read.
        self._gauges = {
            ViolationType.FRESHNESS: (freshness, _stalest_age),
            ViolationType.AVAILABILITY: (availability, _uptime_ratio),
            ViolationType.QUALITY: (quality, _quality_score),
        }
        self._deliveries = meter.create_counter(
            "floe_alert_deliveries",
            "{delivery}",
            "Alert notifications decided per channel, by outcome (sent, suppressed, failed).",
        )
        self._delivery_failures = meter.create_counter(
            "floe_alert_delivery_failures",
            "{failure}",
            "Alert notifications a channel failed to deliver.",
        )
        self._overruns = meter.create_counter(
            "floe_monitor_overruns",
            "{overrun}",
            "Scheduled checks that found the previous run of their type still running.",
        )
        self._lineage_failures = meter.create_counter(
            "floe_lineage_emit_failures",
            "{event}",
            "OpenLineage events that could not be sent (backend down, queue full).",
        )
        self._schedule_lag = meter.create_histogram(
            "floe_monitor_schedule_lag_seconds",
            "s",
            "How late a scheduled check started, after the time it was due.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )

    def check_finished(
        self, result: CheckResult, violations: Sequence[ContractViolationEvent]
    ) -> None:
        """Count a check run and its events; a measured (pass/fail) run also sets its gauge."""
        kind = result.check_type.value
        contract = {"contract": result.contract_name}
        self._checks.add(1, {**contract, "type": kind, "status": result.status.value})
        self._duration.record(max(result.duration_seconds, 0.0), {"type": kind})
        self._count(violations)
        gauge = self._gauges.get(result.check_type)
        if gauge is None or result.status not in _MEASURED:
            return
        instrument, read = gauge
        value = read(result.details)
        if value is not None:
            instrument.set(value, contract)

    def report_finished(self, report: CheckReport) -> None:
        """Count a whole run (``floe sla check``): each of its checks, each event once."""
        for result in report.results:
            self.check_finished(result, ())
        self._count(report.violations)

    def _count(self, violations: Sequence[ContractViolationEvent]) -> None:
        for event in violations:
            self._violations.add(
                1,
                {
                    "contract": event.contract_name,
                    "type": event.violation_type.value,
                    "severity": event.severity.value,
                },
            )

    def alert_delivered(self, channel: str, status: str) -> None:
        """Count one routing outcome; a status in ``FAILED_DELIVERY_STATUSES`` is a failure too.

        Any other status adds 0 to the channel's failures, so that series exists from the
        channel's first outcome and the first failure shows in ``increase()``.
        """
        self._deliveries.add(1, {"channel": channel, "status": status})
        self._delivery_failures.add(
            1 if status in FAILED_DELIVERY_STATUSES else 0, {"channel": channel}
        )

    def alert_failed(self, channel: str) -> None:
        """Count a failed delivery that produced no outcome (for one that did, the outcome did)."""
        self._delivery_failures.add(1, {"channel": channel})

    def lineage_failed(self) -> None:
        """Count an OpenLineage event that could not be sent."""
        self._lineage_failures.add(1)

    def overrun(self, check_type: str) -> None:
        """Count a scheduled run of ``check_type`` that found the previous one still running."""
        self._overruns.add(1, {"type": check_type})

    def schedule_lag(self, seconds: float) -> None:
        """Record how late a scheduled check started (a check started early counts as 0)."""
        self._schedule_lag.record(max(seconds, 0.0))


#: How long stopping may wait for the last OTLP push (a collector that does not answer).
SHUTDOWN_TIMEOUT_SECONDS = 3.0


class PrometheusExport:
    """A private MeterProvider and the registry Prometheus reads it from (``/metrics``);
    with OTLP, the provider's second reader too."""

    def __init__(
        self, provider: MeterProvider, registry: CollectorRegistry, content_type: str
    ) -> None:
        self.metrics = MonitorMetrics(provider.get_meter("floe", __version__))
        self.content_type = content_type
        self._provider = provider
        self._registry = registry
        self._closed = False

    def render(self) -> bytes:
        """Everything recorded so far, in Prometheus' text exposition format."""
        from prometheus_client import generate_latest

        return generate_latest(self._registry)

    def shutdown(self) -> None:
        """Stop the provider and empty the registry; later recording is dropped. Idempotent.

        With OTLP, what was recorded since the last push is pushed first, for
        ``SHUTDOWN_TIMEOUT_SECONDS`` at most; a failure is logged, never raised.
        """
        if not self._closed:
            self._closed = True
            try:
                self._provider.shutdown(timeout_millis=SHUTDOWN_TIMEOUT_SECONDS * 1000)
            except Exception as exc:  # a reader that failed to stop: nothing left to do
                from floe_core.telemetry.otlp_metrics import export_failed

                export_failed(exc)

    def __enter__(self) -> PrometheusExport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()


def prometheus_exporter(*, otlp: bool = False) -> PrometheusExport:
    """Metrics for Prometheus on a provider and registry of their own; with ``otlp``, the
    same instruments pushed over OTLP/HTTP too (``otlp_metrics.periodic_reader``).

    Nothing global is touched (no global MeterProvider, not prometheus_client's default
    registry), so two monitors in one process keep their numbers apart. The provider has no
    exit hook: a pull reader has nothing to flush, and ``shutdown`` pushes the OTLP rest.
    """
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

    registry = CollectorRegistry()
    # Only our labels: no target_info family, no otel_scope_* label on every series.
    readers: list[MetricReader] = [
        PrometheusMetricReader(
            disable_target_info=True, scope_info_enabled=False, registry=registry
        )
    ]
    resource = None
    if otlp:
        from floe_core.telemetry import otlp_metrics

        try:
            readers.append(otlp_metrics.periodic_reader())
            resource = otlp_metrics.resource()
        except Exception as exc:  # OTEL_* settings the SDK refuses: /metrics all the same
            otlp_metrics.export_failed(exc)
    provider = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
    return PrometheusExport(provider, registry, CONTENT_TYPE_LATEST)


def _number(value: Any) -> float | None:
    """A finite number from a result's details, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _stalest_age(details: Mapping[str, Any]) -> float | None:
    """The largest ``age_seconds`` of the freshness check's tables.

    None when a table has no data (or no age): the stalest table's age is then unknown.
    """
    tables = details.get("tables")
    if not isinstance(tables, list) or not tables:
        return None
    stalest = 0.0
    for table in tables:
        age = _number(table.get("age_seconds")) if isinstance(table, Mapping) else None
        if age is None:
            return None
        stalest = max(stalest, age)
    return stalest


def _uptime_ratio(details: Mapping[str, Any]) -> float | None:
    uptime = _number(details.get("uptime_pct"))
    return None if uptime is None else uptime / 100


def _quality_score(details: Mapping[str, Any]) -> float | None:
    return _number(details.get("quality_score"))
